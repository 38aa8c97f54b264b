#include "core/render.hpp"

#include <set>
#include <string_view>

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

// kainjow drops the line of a standalone `{{/section}}` tag when the section renders, but keeps its
// newline when the section is skipped, leaving a stray blank line. Joining such a closing tag with
// the line after it gives the spec's behaviour in both cases. A blank line right after the tag is
// left alone (joining would swallow it when the section renders).
std::string join_standalone_closers(const std::string& text) {
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos <= text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    lines.emplace_back(text.data() + pos, end - pos);
    pos = end + 1;
  }
  auto blank = [](std::string_view l) { return l.find_first_not_of(" \t\r") == std::string_view::npos; };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    const size_t first = line.find_first_not_of(" \t");
    const size_t last = line.find_last_not_of(" \t\r");
    const bool closer =
        first != std::string_view::npos && line.substr(first, 3) == "{{/" && line.find("}}") == last - 1;
    const bool next_blank = i + 1 < lines.size() && blank(lines[i + 1]) && i + 2 < lines.size();
    if (closer && !next_blank) {
      out += line.substr(first, last - first + 1);
    } else {
      out += line;
      if (i + 1 < lines.size()) out += '\n';
    }
  }
  return out;
}

Result<std::string> render_template(const std::string& name, const TemplateSource& templates,
                                    const mu::data& values) {
  auto text = templates.get(name);
  if (!text) return make_error(ErrorKind::bad_input, "template '" + name + "' not found");
  mu::mustache tmpl(join_standalone_closers(*text));
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
      if (f.tls_only && !inv.tls.enabled) continue;
      auto content = render_template(f.template_name, templates, *values);
      if (!content) return std::move(content.error()).with("node " + node.name);
      RenderedFile file{role, f.path, std::move(*content), f.attrs, f.secret};
      // pgbackrest.conf carries the repository passphrase only when the repo is encrypted.
      if (f.path == "/etc/pgbackrest/pgbackrest.conf" && backup_encrypted) file.secret = true;
      if (file.secret) file.attrs.mode = 0600;
      out.push_back(std::move(file));
    }
  }
  return out;
}

}  // namespace pgha
