// Which way each new VM goes, in words (`validate`, `plan`, up's report), and provider.proxmox.templates
// from the YAML to the privileges it needs. Pure: no simulator here (proxmox_provider_test.cpp runs
// the same routes against it).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/inventory_parse.hpp"
#include "core/validate.hpp"
#include "providers/proxmox/proxmox_preflight.hpp"
#include "providers/proxmox/proxmox_provider.hpp"
#include "providers/proxmox/proxmox_routes.hpp"
#include "roles/plan.hpp"

namespace pgha::pve {
namespace {

TEST(ProxmoxRoutes, EachWayInWords) {
  HostRoute same{9000, "pve1", false, "", "", "local-lvm", "", ""};
  EXPECT_EQ(describe(same), "clone from template 9000 on pve1");

  HostRoute shared{9000, "pve1", false, "pve2", "", "ceph", "", "storage ceph is shared"};
  EXPECT_EQ(describe(shared), "clone from template 9000 on pve1 with target pve2 (storage ceph is shared)");

  HostRoute local{9000, "pve1", false, "", "pve2", "local-lvm", "", "storage local-lvm is not shared"};
  EXPECT_EQ(describe(local),
            "clone from template 9000 on pve1, then migrate to pve2 (storage local-lvm is not shared; "
            "targetstorage local-lvm)");
  local.target_storage = "local-zfs";
  EXPECT_EQ(describe(local),
            "clone from template 9000 on pve1, then migrate to pve2 (storage local-lvm is not shared; "
            "targetstorage local-zfs)");

  HostRoute own{9001, "pve2", true, "", "", "local-lvm", "", ""};
  EXPECT_EQ(describe(own), "clone from pve2's own template 9001");
}

TEST(ProxmoxRoutes, WithoutAskingProxmoxAHostsOwnTemplateIsCertainTheRestDependsOnTheStorage) {
  ProxmoxSettings s;
  s.template_vmid = 9000;
  s.storage = "local-lvm";
  s.templates = {{"pve2", 9001}};
  EXPECT_EQ(describe_unobserved(s, "pve2"), "clone from pve2's own template 9001");
  EXPECT_EQ(describe_unobserved(s, "pve3"),
            "on pve3 from template 9000: clone with target pve3 if storage local-lvm is shared, else clone "
            "on the template's host and migrate to pve3 (neither if the template is on pve3)");
  s.full_clone = false;  // a linked clone stays on the template's storage
  EXPECT_NE(describe_unobserved(s, "pve3").find("if the template's disk storage is shared"),
            std::string::npos);
}

std::vector<std::string> privilege_names(const std::vector<Privilege>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.name + " on " + p.path);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(ProxmoxRoutes, VmMigrateOnlyWhenSomeRouteMigrates) {
  ProxmoxSettings s;
  s.bridge = "vmbr0";
  std::map<std::string, HostRoute> own = {{"pve1", {9000, "pve1", true, "", "", "local-lvm", "", ""}},
                                          {"pve2", {9001, "pve2", true, "", "", "local-lvm", "", ""}},
                                          {"pve3", {9002, "pve3", true, "", "", "local-zfs", "", ""}}};
  auto p = privilege_names(required_privileges(9, s, own));
  EXPECT_FALSE(has(p, "VM.Migrate on /vms"));
  EXPECT_TRUE(has(p, "VM.GuestAgent.Audit on /vms"));
  EXPECT_TRUE(has(p, "Datastore.AllocateSpace on /storage/local-lvm"));
  EXPECT_TRUE(has(p, "Datastore.AllocateSpace on /storage/local-zfs"));

  own["pve3"] = {9000, "pve1", false, "", "pve3", "local-lvm", "", "storage local-lvm is not shared"};
  p = privilege_names(required_privileges(8, s, own));
  EXPECT_TRUE(has(p, "VM.Migrate on /vms"));
  EXPECT_TRUE(has(p, "VM.Monitor on /vms"));
  EXPECT_FALSE(has(p, "Datastore.AllocateSpace on /storage/local-zfs"));
}

// The provider's route hook from the inventory alone: no request at all (the endpoint is a closed
// port, and the transport would fail if asked).
class NoHttp final : public HttpTransport {
 public:
  Result<HttpResponse> send(const HttpRequest&) override {
    ++calls;
    return Error(ErrorKind::io, "no network in this test");
  }
  int calls = 0;
};

Inventory three_nodes() {
  Inventory inv;
  inv.cluster_name = "demo";
  inv.provider.type = ProviderType::proxmox;
  ProxmoxSettings& s = inv.provider.proxmox;
  s.endpoint = "https://127.0.0.1:1";
  s.nodes = {"pve1", "pve2", "pve3"};
  s.template_vmid = 9000;
  s.storage = "local-lvm";
  for (int i = 1; i <= 3; ++i) {
    Node n;
    n.name = "pg" + std::to_string(i);
    n.address = "10.0.0.1" + std::to_string(i);
    n.roles = {Role::etcd, Role::patroni};
    inv.nodes.push_back(n);
  }
  return inv;
}

TEST(ProxmoxRoutes, FromTheInventoryAloneNothingIsAsked) {
  auto http = std::make_unique<NoHttp>();
  NoHttp* seen = http.get();
  ProviderDeps deps;
  deps.http = std::move(http);
  deps.auth = TokenAuth{"root@pam!pgha", "SECRET"};
  std::unique_ptr<Provider> p = make_proxmox_provider(std::move(deps));
  Inventory inv = three_nodes();
  inv.provider.proxmox.templates = {{"pve3", 9002}};
  auto routes = p->creation_routes(inv, {"pg2", "pg3", "not-a-node"}, RouteSource::inventory);
  ASSERT_TRUE(routes.ok()) << routes.error().describe();
  EXPECT_EQ(seen->calls, 0);
  ASSERT_EQ(routes->size(), 2u) << "a name the inventory lacks gets no route";
  EXPECT_EQ(routes->at("pg3"), "clone from pve3's own template 9002");
  EXPECT_NE(routes->at("pg2").find("clone with target pve2 if storage local-lvm is shared"),
            std::string::npos)
      << routes->at("pg2");
}

TEST(ProxmoxRoutes, PlanShowsTheRouteWithTheMachineItCreates) {
  Plan plan;
  plan.changes.push_back(Change{ChangeKind::create_machine, "pg1", "", "create the machine of pg1", false});
  plan.changes.push_back(Change{ChangeKind::create_machine, "pg2", "", "create the machine of pg2", false});
  plan.changes.push_back(Change{ChangeKind::prepare, "pg2", "", "packages", false});
  plan.routes = {{"pg2",
                  "clone from template 9000 on pve1, then migrate to pve2 (storage local-lvm is not "
                  "shared; targetstorage local-lvm)"}};
  const std::string text = format_plan(plan, {});
  EXPECT_NE(text.find("  pg1  create the machine of pg1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  pg2  create the machine of pg2: clone from template 9000 on pve1, then migrate to "
                      "pve2 (storage local-lvm is not shared; targetstorage local-lvm)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  pg2  packages\n"), std::string::npos) << text;
  nlohmann::json j = plan_json(plan);
  EXPECT_FALSE(j["changes"][0].contains("route"));
  EXPECT_EQ(j["changes"][1]["route"], plan.routes["pg2"]);
  EXPECT_FALSE(j["changes"][2].contains("route")) << "only the machine's change carries it";
}

std::string example_with(const std::string& templates_block, bool drop_template) {
  std::ifstream f(std::string(PGHA_SOURCE_DIR) + "/inventories/proxmox-3node.yml");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  const std::string key = "    template: 9000\n";
  size_t at = text.find(key);
  text.replace(at, key.size(), (drop_template ? "" : key) + templates_block);
  return text;
}

EnvLookup fake_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (name == "PROXMOX_API_TOKEN_ID") return std::string("pgha@pve!ci");
    return std::string("fake-" + name);
  };
}

TEST(ProxmoxRoutes, TemplatesMapParsesAndMakesTemplateOptionalWhenEveryHostHasOne) {
  const std::string block = "    templates:\n      pve1: 9000\n      pve2: 9001\n      pve3: 9002\n";
  ParseOutcome out = parse_inventory(example_with(block, true), "inv.yml", fake_env());
  ASSERT_TRUE(out.inventory);
  auto diags = validate_inventory(*out.inventory);
  diags.insert(diags.end(), out.diagnostics.begin(), out.diagnostics.end());
  EXPECT_FALSE(has_errors(diags)) << format_diagnostics(diags, "");
  EXPECT_EQ(out.inventory->provider.proxmox.templates,
            (std::map<std::string, int>{{"pve1", 9000}, {"pve2", 9001}, {"pve3", 9002}}));

  // Only some hosts: `template` is still needed for the others.
  out = parse_inventory(example_with("    templates: {pve2: 9001}\n", true), "inv.yml", fake_env());
  ASSERT_TRUE(out.inventory);
  diags = validate_inventory(*out.inventory);
  ASSERT_TRUE(has_errors(diags));
  EXPECT_NE(diags.front().message.find("provider.proxmox.template (the template's VM id) is required"),
            std::string::npos)
      << diags.front().message;

  // The same id for two hosts: one VM cannot be on both.
  out = parse_inventory(example_with("    templates: {pve2: 9001, pve3: 9001}\n", false), "inv.yml",
                        fake_env());
  ASSERT_TRUE(out.inventory);
  diags = validate_inventory(*out.inventory);
  ASSERT_TRUE(has_errors(diags));
  EXPECT_NE(diags.front().message.find("provider.proxmox.templates.pve3: VM 9001 is already pve2's template"),
            std::string::npos)
      << diags.front().message;
}

}  // namespace
}  // namespace pgha::pve
