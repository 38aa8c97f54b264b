#include "providers/docker/docker_image.hpp"

#include "core/sha256.hpp"

#include <openssl/evp.h>

#include <kainjow/mustache.hpp>

#include "providers/docker/tar_writer.hpp"

namespace pgha {
namespace {

constexpr const char* kDockerfile = "docker/Dockerfile.mustache";
constexpr const char* kFilesPrefix = "docker/files/";
constexpr const char* kPatroniFix = "patroni/etcd3_leader_cas.py";

}  // namespace

Result<BuildContext> make_build_context(const DockerSettings& settings, int postgres_version,
                                        const std::map<std::string, std::string>& templates) {
  auto it = templates.find(kDockerfile);
  if (it == templates.end())
    return Error(ErrorKind::bad_input, std::string("missing template ") + kDockerfile);
  kainjow::mustache::mustache tmpl(it->second);
  if (!tmpl.is_valid()) return Error(ErrorKind::bad_input, tmpl.error_message()).with(kDockerfile);
  kainjow::mustache::data data;
  data.set("base_image", settings.base_image);
  // The OS's PostgreSQL (15 on bookworm, 17 on trixie). The template's comments keep their Debian 12
  // wording: the rendered text is the image's hash, and a Debian 12 image is not rebuilt for a comment.
  // On trixie the leader-key script finds the rule upstream (Patroni 4) and changes nothing.
  data.set("pg_version", std::to_string(postgres_version));
  data.set("bake_packages", settings.bake_packages ? kainjow::mustache::data::type::bool_true
                                                   : kainjow::mustache::data::type::bool_false);
  std::string dockerfile = tmpl.render(data);
  if (!tmpl.is_valid()) return Error(ErrorKind::bad_input, tmpl.error_message()).with(kDockerfile);

  // The hash covers names and contents with their lengths, so no two contexts collide by concatenation.
  std::string hashed;
  auto add_to_hash = [&](const std::string& name, const std::string& content) {
    hashed += std::to_string(name.size()) + ":" + name + std::to_string(content.size()) + ":" + content;
  };
  TarWriter tar;
  tar.add_file("Dockerfile", dockerfile);
  add_to_hash("Dockerfile", dockerfile);
  tar.add_dir("files");
  // std::map iterates in name order: the tar and the hash are deterministic.
  for (const auto& [name, content] : templates) {
    if (!name.starts_with(kFilesPrefix)) continue;
    std::string rel = "files/" + name.substr(std::string(kFilesPrefix).size());
    for (size_t slash = rel.find('/', 6); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
      tar.add_dir(rel.substr(0, slash));  // parents, repeated: tar extraction tolerates that
    }
    tar.add_file(rel, content, 0644);
    add_to_hash(rel, content);
  }
  // Patroni's leader-key fix, applied once in the image (prepare applies it on other machines).
  if (auto fix = templates.find(kPatroniFix); settings.bake_packages && fix != templates.end()) {
    tar.add_dir("pgha");
    tar.add_file("pgha/etcd3_leader_cas.py", fix->second, 0644);
    add_to_hash("pgha/etcd3_leader_cas.py", fix->second);
  }
  return BuildContext{tar.finish(), sha256_hex(hashed)};
}

Result<BaseImageAction> ensure_base_image(DockerClient& docker, const std::string& base_image,
                                          const RootfsMaker& make_rootfs, const ProgressFn& progress) {
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  auto base = docker.inspect_image(base_image);
  if (!base) return base.error();
  if (*base) return BaseImageAction::present;
  say("base image " + base_image + " is missing: pulling it");
  auto pulled = docker.pull_image(base_image, nullptr);
  if (pulled) {
    say("base image " + base_image + " pulled");
    return BaseImageAction::pulled;
  }
  const std::string pull_error = pulled.error().describe();
  // The engine's reason can span lines; progress shows its first.
  say("pulling " + base_image + " failed (" + pull_error.substr(0, pull_error.find('\n')) +
      "); making it with debootstrap instead");
  auto fail = [&](const Error& e) {
    return Error(e.kind, "base image " + base_image + " is missing; pulling it failed: " + pull_error +
                             "; making it without a registry failed too: " + e.describe());
  };
  if (!make_rootfs) return fail(Error(ErrorKind::internal, "no way to make a root file system"));
  auto rootfs = make_rootfs(base_image, progress);
  if (!rootfs) return fail(rootfs.error());
  if (auto st = docker.import_image(*rootfs, base_image); !st) return fail(st.error());
  say("base image " + base_image + " made with debootstrap and imported");
  return BaseImageAction::bootstrapped;
}

Result<ImageAction> ensure_image(DockerClient& docker, const DockerSettings& settings, int postgres_version,
                                 const std::map<std::string, std::string>& templates,
                                 const RootfsMaker& make_rootfs, const ProgressFn& progress) {
  auto ctx = make_build_context(settings, postgres_version, templates);
  if (!ctx) return ctx.error();
  auto image = docker.inspect_image(settings.image);
  if (!image) return image.error();
  if (*image) {
    const json& labels = field(**image, "Config", "Labels");
    if (labels.is_object() && labels.value(kContextHashLabel, "") == ctx->hash) return ImageAction::kept;
  }
  auto base = ensure_base_image(docker, settings.base_image, make_rootfs, progress);
  if (!base) return base.error();
  if (progress) progress("building image " + settings.image + " from " + settings.base_image);
  auto st = docker.build_image(ctx->tar, settings.image, json{{kContextHashLabel, ctx->hash}},
                               [&](const std::string& line) {
                                 if (progress && line.starts_with("Step ")) progress(line.substr(0, 160));
                               });
  if (!st) return st.error();
  return ImageAction::built;
}

}  // namespace pgha
