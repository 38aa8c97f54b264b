#include "core/render.hpp"

#include <set>

#include "core/render_context.hpp"
#include "core/render_files.hpp"

namespace pgha {
namespace {

namespace mu = kainjow::mustache;

// A mustache context that remembers every name it could not resolve, so a typo in a template is an
// error instead of an empty string in a production config. Every name a template may ask for exists
// in render_context() (booleans included), so a miss is always a mistake.
class StrictContext final : public mu::context<std::string> {
 public:
  explicit StrictContext(const mu::data* d) : mu::context<std::string>(d) {}
  const mu::data* get(const std::string& name) const override {
    const mu::data* found = mu::context<std::string>::get(name);
    if (found == nullptr) missing_.insert(name);
    return found;
  }
  const std::set<std::string>& missing() const { return missing_; }

 private:
  mutable std::set<std::string> missing_;
};

Result<std::string> render_template(const std::string& name, const TemplateSource& templates,
                                    const mu::data& values) {
  auto text = templates.get(name);
  if (!text) return make_error(ErrorKind::bad_input, "template '" + name + "' not found");
  mu::mustache tmpl(*text);
  if (!tmpl.is_valid()) {
    return make_error(ErrorKind::bad_input, "template '" + name + "': " + tmpl.error_message());
  }
  // Values are already in their target syntax (render_context.hpp); HTML escaping would corrupt them.
  tmpl.set_custom_escape([](const std::string& s) { return s; });
  StrictContext ctx(&values);
  std::string out = tmpl.render(ctx);
  if (!tmpl.is_valid()) {
    return make_error(ErrorKind::bad_input, "template '" + name + "': " + tmpl.error_message());
  }
  if (!ctx.missing().empty()) {
    std::string names;
    for (const auto& m : ctx.missing()) names += (names.empty() ? "" : ", ") + m;
    return make_error(ErrorKind::bad_input, "template '" + name + "' uses unknown value(s): " + names);
  }
  return out;
}

// Whether `role` has anything to do on this inventory: keepalived without a VIP has nothing to manage.
bool role_applies(const Inventory& inv, Role role) {
  return !(role == Role::keepalived && inv.network.vip.empty());
}

}  // namespace

Result<std::vector<RenderedFile>> render_node(const Inventory& inv, const Node& node,
                                              const ResolvedSecrets& secrets,
                                              const TemplateSource& templates) {
  auto values = render_context(inv, node, secrets);
  if (!values) return std::move(values.error()).with("node " + node.name);

  const bool backup_encrypted = inv.backup.cipher_type != "none" && !inv.backup.cipher_type.empty();
  std::vector<RenderedFile> out;
  for (Role role : all_roles()) {
    if (!has_role(node, role) || !role_applies(inv, role)) continue;
    for (const RoleFile& f : role_files(role)) {
      auto content = render_template(f.template_name, templates, *values);
      if (!content) return std::move(content.error()).with("node " + node.name);
      RenderedFile file{role, f.path, std::move(*content), f.attrs, f.secret};
      // pgbackrest.conf carries the repository passphrase only when the repo is encrypted.
      if (role == Role::pgbackrest && backup_encrypted) file.secret = true;
      if (file.secret) file.attrs.mode = 0600;
      out.push_back(std::move(file));
    }
  }
  return out;
}

}  // namespace pgha
