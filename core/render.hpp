// Rendering: inventory x node x roles -> the exact files that node needs, from mustache templates.
// Pure: templates come through a TemplateSource, secrets are passed in resolved.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/endpoints.hpp"
#include "core/error.hpp"
#include "core/inventory.hpp"
#include "core/remote_shell.hpp"

namespace pgha {

// Every secret with a value: from the inventory/environment, or generated and kept in state.
// The cluster's TLS material (inventory tls.enabled): the CA certificate and each node's certificate
// and key; `client` is pgha's own files on this machine. Empty when TLS is off.
struct TlsMaterial {
  std::string ca_cert_pem;
  std::map<std::string, TlsPair> nodes;  // by node name
  TlsClient client;
  std::vector<std::string> issued;  // "pg1: expires 2027-01-02 (within 30 days)": issued by this resolve
  bool enabled() const { return !ca_cert_pem.empty(); }
};

struct ResolvedSecrets {
  std::string superuser_password;
  std::string replication_password;
  std::string admin_password;
  std::string backup_cipher_pass;                     // "" when the repo is not encrypted
  std::map<std::string, std::string> user_passwords;  // by user name
  TlsMaterial tls;
};

struct RenderedFile {
  Role role;
  std::string path;  // absolute path on the node
  std::string content;
  FileAttrs attrs;      // owner, group, mode (0600 for anything carrying a secret)
  bool secret = false;  // content carries a secret: never print it, never diff it in logs
};

class TemplateSource {
 public:
  virtual ~TemplateSource() = default;
  // The template's text, or nullopt when there is none by that name.
  virtual std::optional<std::string> get(const std::string& name) const = 0;
};

// Templates compiled into the binary.
std::unique_ptr<TemplateSource> embedded_template_source();
// Files under dir first, then the embedded ones (`--templates DIR`). Reads the file system.
std::unique_ptr<TemplateSource> directory_template_source(const std::string& dir);

// Every file of every role `node` carries, in role order. Errors: a missing template or a mustache
// error (bad_input, naming the template).
Result<std::vector<RenderedFile>> render_node(const Inventory& inv, const Node& node,
                                              const ResolvedSecrets& secrets,
                                              const TemplateSource& templates);

}  // namespace pgha
