#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "core/embedded.hpp"
#include "roles/catalog.hpp"

namespace pgha {
namespace {

TEST(Catalog, EveryRoleOnceInBringUpOrder) {
  const auto& cat = role_catalog();
  ASSERT_EQ(cat.size(), all_roles().size());
  for (size_t i = 0; i < cat.size(); ++i) EXPECT_EQ(cat[i].role, all_roles()[i]);
  for (Role r : all_roles()) EXPECT_EQ(role_spec(r).role, r);
}

TEST(Catalog, DependenciesComeEarlier) {
  const auto& cat = role_catalog();
  for (size_t i = 0; i < cat.size(); ++i) {
    for (Role dep : cat[i].after) {
      auto pos = std::find(all_roles().begin(), all_roles().end(), dep) - all_roles().begin();
      EXPECT_LT(static_cast<size_t>(pos), i) << to_string(cat[i].role) << " after " << to_string(dep);
    }
  }
}

TEST(Catalog, FilesAreAbsoluteAndSecretsLocked) {
  std::set<std::string> paths;
  for (const auto& spec : role_catalog()) {
    EXPECT_FALSE(spec.packages.empty()) << to_string(spec.role);
    EXPECT_FALSE(spec.files.empty()) << to_string(spec.role);
    for (const auto& f : spec.files) {
      EXPECT_EQ(f.path.front(), '/') << f.path;
      EXPECT_TRUE(paths.insert(f.path).second) << "two roles write " << f.path;
      if (f.secret) {
        EXPECT_EQ(f.attrs.mode, 0600) << f.path;
      }
    }
  }
}

TEST(Catalog, PatroniPackagesCanTalkToEtcd3) {
  const auto& pkgs = role_spec(Role::patroni).packages;
  EXPECT_NE(std::find(pkgs.begin(), pkgs.end(), "python3-etcd"), pkgs.end());
  EXPECT_NE(std::find(pkgs.begin(), pkgs.end(), "postgresql-15"), pkgs.end());
}

TEST(Catalog, PackagesFollowThePostgresVersion) {
  auto pkgs = role_packages(Role::patroni, 16);
  EXPECT_NE(std::find(pkgs.begin(), pkgs.end(), "postgresql-16"), pkgs.end());
  EXPECT_NE(std::find(pkgs.begin(), pkgs.end(), "postgresql-client-16"), pkgs.end());
  EXPECT_EQ(std::find(pkgs.begin(), pkgs.end(), "postgresql-15"), pkgs.end());
  EXPECT_EQ(role_packages(Role::etcd, 16), role_spec(Role::etcd).packages);
}

TEST(Catalog, ReloadableDaemonsReload) {
  EXPECT_EQ(role_spec(Role::etcd).on_change, ApplyAction::restart);
  EXPECT_EQ(role_spec(Role::haproxy).on_change, ApplyAction::reload);
  EXPECT_EQ(role_spec(Role::pgbouncer).on_change, ApplyAction::reload);
  // pgBackRest has no daemon; its units are the scheduled backups' timers, restarted when they change.
  EXPECT_EQ(role_spec(Role::pgbackrest).on_change, ApplyAction::restart);
  EXPECT_EQ(role_spec(Role::pgbackrest).units,
            (std::vector<std::string>{"pgha-backup-full.timer", "pgha-backup-diff.timer"}));
}

}  // namespace
}  // namespace pgha

namespace pgha {
namespace {

// The plan takes a new machine of the baked node image to need no package (plan_nodes): the image's
// Dockerfile must install every package of every role, on each OS's PostgreSQL (a package missing
// there, python3-etcd on Debian 13, made `up` install it unplanned).
TEST(Catalog, TheBakedImageInstallsEveryRolePackage) {
  const std::string& dockerfile = embedded_templates().at("docker/Dockerfile.mustache");
  for (int version : {15, 17}) {
    std::string text = dockerfile;
    for (size_t at; (at = text.find("{{pg_version}}")) != std::string::npos;)
      text.replace(at, 14, std::to_string(version));
    std::set<std::string> words;
    std::istringstream in(text);
    for (std::string w; in >> w;) words.insert(w);
    for (const auto& spec : role_catalog()) {
      for (const auto& p : role_packages(spec.role, version))
        EXPECT_TRUE(words.count(p)) << p << " (PostgreSQL " << version
                                    << ") is not installed by the node image";
    }
  }
}

}  // namespace
}  // namespace pgha
