#include "core/inventory_yaml.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "core/interpolate.hpp"
#include "core/value_grammar.hpp"

namespace pgha {

namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

std::string in_what(const std::string& path) {
  return path.empty() ? "at the top level" : "in " + path;
}

}  // namespace

YamlReader::YamlReader(std::string file, EnvLookup env, std::vector<Diagnostic>& diagnostics, Inventory& inv)
    : file_(std::move(file)),
      env_(std::move(env)),
      diagnostics_(diagnostics),
      marks_(inv.marks),
      unreadable_(inv.unreadable) {}

void YamlReader::unreadable(const std::string& path, std::string message) {
  unreadable_.push_back(path);
  error(where(path), std::move(message));
}

void YamlReader::error(Mark at, std::string message) {
  diagnostics_.push_back({Severity::error, file_, at, std::move(message)});
}

void YamlReader::warning(Mark at, std::string message) {
  diagnostics_.push_back({Severity::warning, file_, at, std::move(message)});
}

Mark YamlReader::mark_of(const YAML::Node& node) {
  YAML::Mark m = node.Mark();
  if (m.is_null() || m.line < 0 || m.column < 0) return {};
  return {m.line + 1, m.column + 1};
}

std::string YamlReader::child(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

Mark YamlReader::where(const std::string& path) const {
  auto it = marks_.find(path);
  return it == marks_.end() ? Mark{} : it->second;
}

std::vector<YamlReader::Entry> YamlReader::entries(const YAML::Node& map, const std::string& path,
                                                   const std::vector<std::string>* known) {
  std::vector<Entry> out;
  if (!map.IsMap()) {
    if (!map.IsNull()) unreadable(path, "expected a mapping for " + path);
    return out;
  }
  std::map<std::string, Mark> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    Mark key_mark = mark_of(it->first);
    if (!it->first.IsScalar()) {
      error(key_mark, "expected a plain key " + in_what(path));
      continue;
    }
    std::string key = it->first.Scalar();
    if (std::string c = first_control_char(key); !c.empty()) {
      error(key_mark, "a key " + in_what(path) + " holds a control character (" + c + ")");
      continue;
    }
    if (auto [first, inserted] = seen.emplace(key, key_mark); !inserted) {
      error(key_mark, "duplicate key '" + key + "' " + in_what(path) + " (first at line " +
                          std::to_string(first->second.line) + ")");
      continue;
    }
    if (known && std::find(known->begin(), known->end(), key) == known->end()) {
      std::string hint = did_you_mean(key, *known);
      error(key_mark,
            "unknown key '" + key + "' " + in_what(path) +
                (hint.empty() ? " (expected " + join(*known) + ")" : "; did you mean '" + hint + "'?"));
      continue;
    }
    bool scalar_value = it->second.IsScalar() && mark_of(it->second).line != 0;
    record(child(path, key), scalar_value ? mark_of(it->second) : key_mark);
    out.push_back({key, key_mark, it->second});
  }
  return out;
}

void YamlReader::fields(const YAML::Node& map, const std::string& path, const std::vector<Field>& fields) {
  std::vector<std::string> known;
  for (const auto& f : fields) known.push_back(f.key);
  for (const auto& e : entries(map, path, &known)) {
    for (const auto& f : fields) {
      if (f.key == e.key) f.read(e.value, child(path, e.key));
    }
  }
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& value, const std::string& path,
                                              const char* expected) {
  if (value.IsNull()) return std::string();
  if (!value.IsScalar()) {
    unreadable(path, std::string("expected ") + expected + " for " + path);
    return std::nullopt;
  }
  auto text = interpolate(value.Scalar(), env_);
  if (!text.ok()) {
    unreadable(path, text.error().message + " (needed by " + path + ")");
    return std::nullopt;
  }
  // Every value may end up in a config line, a command or SQL: none may carry a line break, a NUL or
  // a terminal escape. The value itself is not shown (it may be a secret).
  if (std::string c = first_control_char(*text); !c.empty()) {
    unreadable(path, path + " holds a control character (" + c +
                         "); no inventory value may hold a line break, NUL or other control character");
    return std::nullopt;
  }
  return std::move(text).value();
}

std::optional<int64_t> YamlReader::read_integer(const YAML::Node& value, const std::string& path, int64_t min,
                                                int64_t max) {
  const char* expected = "an integer";
  auto text = scalar(value, path, expected);
  if (!text) return std::nullopt;
  int64_t v = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (text->empty() || ec != std::errc() || ptr != end) {
    unreadable(path, std::string("expected ") + expected + " for " + path);
    return std::nullopt;
  }
  if (v < min || v > max) {
    unreadable(path, "integer out of range for " + path);
    return std::nullopt;
  }
  return v;
}

FieldReader YamlReader::text(std::string& out) {
  return [this, &out](const YAML::Node& value, const std::string& path) {
    if (auto s = scalar(value, path, "a string")) out = *s;
  };
}

FieldReader YamlReader::integer(int& out) {
  return [this, &out](const YAML::Node& value, const std::string& path) {
    auto v = read_integer(value, path, std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
    if (v) out = static_cast<int>(*v);
  };
}

FieldReader YamlReader::integer(int64_t& out) {
  return [this, &out](const YAML::Node& value, const std::string& path) {
    auto v =
        read_integer(value, path, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
    if (v) out = *v;
  };
}

FieldReader YamlReader::integer(std::optional<int>& out) {
  return [this, &out](const YAML::Node& value, const std::string& path) {
    auto v = read_integer(value, path, std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
    if (v) out = static_cast<int>(*v);
  };
}

FieldReader YamlReader::boolean(bool& out) {
  return [this, &out](const YAML::Node& value, const std::string& path) {
    auto s = scalar(value, path, "true or false");
    if (!s) return;
    if (*s == "true" || *s == "True" || *s == "TRUE" || *s == "yes" || *s == "on") {
      out = true;
    } else if (*s == "false" || *s == "False" || *s == "FALSE" || *s == "no" || *s == "off") {
      out = false;
    } else {
      unreadable(path, "expected true or false for " + path);
    }
  };
}

FieldReader YamlReader::texts(std::vector<std::string>& out) {
  return [this, &out](const YAML::Node& value, const std::string& path) {
    if (!value.IsSequence()) {
      unreadable(path, "expected a list of strings for " + path);
      return;
    }
    std::vector<std::string> items;
    size_t i = 0;
    for (auto it = value.begin(); it != value.end(); ++it, ++i) {
      std::string item_path = path + "[" + std::to_string(i) + "]";
      record(item_path, mark_of(*it).line ? mark_of(*it) : where(path));
      if (auto s = scalar(*it, item_path, "a string")) {
        items.push_back(*s);
      } else {
        unreadable_.push_back(path);  // reported at the item; the list is not "empty" either
      }
    }
    out = std::move(items);
  };
}

FieldReader YamlReader::text_map(std::map<std::string, std::string>& out) {
  return [this, &out](const YAML::Node& value, const std::string& path) {
    if (!value.IsMap()) {
      unreadable(path, "expected a mapping for " + path);
      return;
    }
    for (const auto& e : entries(value, path, nullptr)) {
      if (auto s = scalar(e.value, child(path, e.key), "a string")) out[e.key] = *s;
    }
  };
}

FieldReader YamlReader::roles(std::vector<Role>& out) {
  return [this, &out](const YAML::Node& value, const std::string& path) {
    if (!value.IsSequence()) {
      unreadable(path, "expected a list of roles for " + path);
      return;
    }
    std::vector<std::string> known;
    for (Role r : all_roles()) known.push_back(to_string(r));
    std::vector<Role> roles;
    size_t i = 0;
    for (auto it = value.begin(); it != value.end(); ++it, ++i) {
      std::string item_path = path + "[" + std::to_string(i) + "]";
      record(item_path, mark_of(*it).line ? mark_of(*it) : where(path));
      auto name = scalar(*it, item_path, "a role name");
      if (!name) continue;
      auto role = role_from_string(*name);
      if (!role) {
        std::string hint = did_you_mean(*name, known);
        error(where(item_path),
              "unknown role '" + *name + "' in " + path +
                  (hint.empty() ? " (expected " + join(known) + ")" : "; did you mean '" + hint + "'?"));
      } else if (std::find(roles.begin(), roles.end(), *role) == roles.end()) {
        roles.push_back(*role);
      }
    }
    out = std::move(roles);
  };
}

FieldReader YamlReader::choice(std::string& out, std::vector<std::string> allowed, std::string what) {
  return [this, &out, allowed = std::move(allowed), what = std::move(what)](const YAML::Node& value,
                                                                            const std::string& path) {
    auto s = scalar(value, path, "a string");
    if (!s) return;
    if (std::find(allowed.begin(), allowed.end(), *s) != allowed.end()) {
      out = *s;
      return;
    }
    std::string hint = did_you_mean(*s, allowed);
    error(where(path),
          "unknown " + what + " '" + *s + "'" +
              (hint.empty() ? " (expected " + join(allowed) + ")" : "; did you mean '" + hint + "'?"));
  };
}

}  // namespace pgha
