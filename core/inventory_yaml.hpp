// Typed reads from yaml-cpp nodes for the inventory parser. Every value read records its mark,
// goes through ${VAR} interpolation, and every problem becomes a Diagnostic: nothing here throws
// on bad input, and a value that cannot be read leaves its destination unchanged.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/inventory.hpp"
#include "core/inventory_parse.hpp"

namespace pgha {

// Reads one field's value; path is the value's full YAML path ("nodes[0].address").
using FieldReader = std::function<void(const YAML::Node& value, const std::string& path)>;

struct Field {
  std::string key;
  FieldReader read;
};

class YamlReader {
 public:
  // Marks and unreadable paths go to inv.marks and inv.unreadable; inv must outlive the reader.
  YamlReader(std::string file, EnvLookup env, std::vector<Diagnostic>& diagnostics, Inventory& inv);

  struct Entry {
    std::string key;
    Mark key_mark;
    YAML::Node value;
  };

  void error(Mark at, std::string message);
  // error() at where(path), and path is recorded as unreadable.
  void unreadable(const std::string& path, std::string message);
  void warning(Mark at, std::string message);
  // 1-based; {0,0} when yaml-cpp has no position for the node.
  static Mark mark_of(const YAML::Node& node);
  static std::string child(const std::string& path, const std::string& key);
  Mark where(const std::string& path) const;
  void record(const std::string& path, Mark at) { marks_[path] = at; }

  // The mapping's entries in document order, one per key, each with its mark recorded at
  // child(path, key) (the value's mark for a scalar, else the key's). Reports a node that is not a
  // mapping, and duplicate keys (the first one wins). When known is given, also reports unknown
  // keys ("did you mean") and leaves them out.
  std::vector<Entry> entries(const YAML::Node& map, const std::string& path,
                             const std::vector<std::string>* known);
  // entries() against the fields' keys, then each present field's reader.
  void fields(const YAML::Node& map, const std::string& path, const std::vector<Field>& fields);

  // The scalar's text after ${VAR} interpolation; nullopt after reporting a node that is not a
  // scalar ("expected <expected> for <path>") or an interpolation error. A null node reads as "".
  std::optional<std::string> scalar(const YAML::Node& value, const std::string& path, const char* expected);

  // Field readers bound to their destinations.
  FieldReader text(std::string& out);
  FieldReader integer(int& out);
  FieldReader integer(int64_t& out);
  FieldReader integer(std::optional<int>& out);
  FieldReader boolean(bool& out);
  FieldReader texts(std::vector<std::string>& out);
  FieldReader text_map(std::map<std::string, std::string>& out);
  FieldReader roles(std::vector<Role>& out);
  // One of allowed; otherwise "unknown <what> '<value>'" with "did you mean".
  FieldReader choice(std::string& out, std::vector<std::string> allowed, std::string what);

 private:
  std::optional<int64_t> read_integer(const YAML::Node& value, const std::string& path, int64_t min,
                                      int64_t max);

  std::string file_;
  EnvLookup env_;
  std::vector<Diagnostic>& diagnostics_;
  std::map<std::string, Mark>& marks_;
  std::vector<std::string>& unreadable_;
};

}  // namespace pgha
