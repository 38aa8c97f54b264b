#include "pve_sim.hpp"

#include <httplib.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>
#include <regex>
#include <sstream>

#include "pve_sim_impl.hpp"
#include "sim_formats.hpp"
#include "sim_tls.hpp"

namespace pgha::sim {

SimResponse json_ok(const nlohmann::json& data) {
  return {200, "OK", nlohmann::json{{"data", data}}.dump()};
}

SimResponse api_fail(int status, const std::string& reason) {
  return {status, reason, nlohmann::json{{"data", nullptr}, {"message", reason + "\n"}}.dump()};
}

SimResponse param_fail(const std::map<std::string, std::string>& errors) {
  nlohmann::json body = {{"data", nullptr}, {"errors", errors}};
  return {400, "Parameter verification failed.", body.dump()};
}

namespace {

std::string random_token(size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back(chars[rng() % 62]);
  return out;
}

// Form or JSON body, then the query string over it.
Params parse_params(const SimRequest& r) {
  Params out;
  auto add_form = [&](const std::string& text) {
    httplib::Params p;
    httplib::detail::parse_query_text(text, p);
    for (const auto& [k, v] : p) out[k] = v;
  };
  auto type = r.headers.find("content-type");
  if (type != r.headers.end() && type->second.find("json") != std::string::npos) {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        out[k] = v.is_string()    ? v.get<std::string>()
                 : v.is_boolean() ? (v.get<bool>() ? "1" : "0")
                                  : v.dump();
      }
    }
  } else if (!r.body.empty()) {
    add_form(r.body);
  }
  if (!r.query.empty()) add_form(r.query);
  return out;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string s;
  while (std::getline(ss, s, '/')) {
    if (!s.empty()) out.push_back(s);
  }
  return out;
}

}  // namespace

std::set<std::string> all_privileges(int version) {
  // pve-access-control: src/PVE/AccessControl.pm, $privgroups and the privileges outside groups.
  std::set<std::string> out = {"VM.Allocate",
                               "VM.Audit",
                               "VM.Backup",
                               "VM.Clone",
                               "VM.Config.CDROM",
                               "VM.Config.CPU",
                               "VM.Config.Cloudinit",
                               "VM.Config.Disk",
                               "VM.Config.HWType",
                               "VM.Config.Memory",
                               "VM.Config.Network",
                               "VM.Config.Options",
                               "VM.Console",
                               "VM.Migrate",
                               "VM.PowerMgmt",
                               "VM.Snapshot",
                               "VM.Snapshot.Rollback",
                               "Sys.Audit",
                               "Sys.Console",
                               "Sys.Modify",
                               "Sys.PowerMgmt",
                               "Sys.Syslog",
                               "Sys.Incoming",
                               "Sys.AccessNetwork",
                               "Datastore.Allocate",
                               "Datastore.AllocateSpace",
                               "Datastore.AllocateTemplate",
                               "Datastore.Audit",
                               "SDN.Allocate",
                               "SDN.Audit",
                               "SDN.Use",
                               "Pool.Allocate",
                               "Pool.Audit",
                               "Mapping.Audit",
                               "Mapping.Modify",
                               "Mapping.Use",
                               "User.Modify",
                               "Group.Allocate",
                               "Realm.Allocate",
                               "Realm.AllocateUser",
                               "Permissions.Modify"};
  if (version >= 9) {
    // Commit 922f710 "add VM.GuestAgent privileges" (9.0.2), then 0706945 "privileges: drop
    // VM.Monitor": the guest agent calls now need VM.GuestAgent.* (qemu-server:
    // src/PVE/API2/Qemu/Agent.pm, ping needs VM.GuestAgent.Audit).
    for (const char* p : {"VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileWrite",
                          "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.Unrestricted"})
      out.insert(p);
  } else {
    out.insert("VM.Monitor");
  }
  return out;
}

bool PveSim::Impl::allowed(const std::string& priv) const {
  if (opt.privileges.empty()) return all_privileges(opt.version).count(priv) != 0;
  return opt.privileges.count(priv) != 0 && all_privileges(opt.version).count(priv) != 0;
}

// pve-access-control: src/PVE/RPCEnvironment.pm check_full: "Permission check failed ($path, $privs)".
SimResponse PveSim::Impl::forbidden(const std::string& path, const std::string& priv) {
  return api_fail(403, "Permission check failed (" + path + ", " + priv + ")");
}

const SimStorage* PveSim::Impl::storage(const std::string& id) const {
  for (const auto& st : opt.storages) {
    if (st.id == id) return &st;
  }
  return nullptr;
}

// qemu-server: src/PVE/API2/Qemu.pm $check_storage_access_clone: $sharedvm = 0 as soon as one
// volume (a cloud-init or other cdrom volume included) sits on a storage without `shared`.
bool PveSim::Impl::on_shared_storage(const std::map<std::string, std::string>& config) const {
  static const std::regex drive("(ide|sata|scsi|virtio|efidisk|tpmstate)[0-9]+");
  for (const auto& [key, value] : config) {
    if (!std::regex_match(key, drive)) continue;
    size_t colon = value.find(':');
    size_t comma = value.find(',');
    if (colon == std::string::npos || (comma != std::string::npos && comma < colon))
      continue;  // "none", "cdrom"
    const SimStorage* st = storage(value.substr(0, colon));
    if (st == nullptr || !st->shared) return false;
  }
  return true;
}

void PveSim::Impl::refresh_stats() {
  for (auto& [id, vm] : vms) {
    auto name = vm.config.find("name");
    vm.stats = SimStats{name == vm.config.end() ? std::string() : name->second,
                        vm.running ? "running" : "stopped", vm.is_template};
  }
  next_stats = std::chrono::steady_clock::now() + opt.stats_interval;
}

std::optional<Fault> fault_from_json(const nlohmann::json& j) {
  static const std::map<std::string, Fault::Kind> kinds = {
      {"lock_timeout", Fault::Kind::lock_timeout},
      {"http_error", Fault::Kind::http_error},
      {"answer_lost", Fault::Kind::answer_lost},
      {"task_fail", Fault::Kind::task_fail},
      {"slow_task", Fault::Kind::slow_task},
      {"steal_next_id", Fault::Kind::steal_next_id},
      {"task_invisible", Fault::Kind::task_invisible},
      {"agent_not_running", Fault::Kind::agent_not_running},
      {"task_lock_timeout", Fault::Kind::task_lock_timeout}};
  if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) return std::nullopt;
  auto k = kinds.find(j["kind"].get<std::string>());
  if (k == kinds.end()) return std::nullopt;
  Fault f;
  f.kind = k->second;
  f.method = j.value("method", "");
  f.path = j.value("path", "");
  f.count = j.value("count", 1);
  f.status = j.value("status", 500);
  f.reason = j.value("reason", "Internal Server Error");
  f.message = j.value("message", "");
  f.delay = std::chrono::milliseconds(j.value("delay_ms", 0));
  return f;
}

PveSim::Impl::Impl(SimOptions o, VmBackend& b) : opt(std::move(o)), backend(b) {
  for (const auto& n : opt.nodes) node_status[n] = "online";
  add_template(opt.template_vmid, opt.template_node.empty() ? opt.nodes.front() : opt.template_node);
  for (const auto& [node, vmid] : opt.node_templates) add_template(vmid, node);
  refresh_stats();
}

// A cloud-init template as `qm create`, `qm set --ide2 <storage>:cloudinit` and `qm template` leave
// it (qemu-server PVE/QemuServer.pm template_create; pve-storage's create_base names the disk
// base-N-disk-0).
void PveSim::Impl::add_template(int vmid, const std::string& node) {
  SimVm t;
  t.vmid = vmid;
  t.node = node;
  t.is_template = opt.template_is_template;
  const std::string& st = opt.template_storage;
  t.config = {{"name", "debian-12-cloudinit"},
              {"cores", "2"},
              {"memory", "2048"},
              {"scsihw", "virtio-scsi-pci"},
              {"scsi0", st + ":base-" + std::to_string(t.vmid) +
                            "-disk-0,size=" + std::to_string(opt.template_disk_gb) + "G"},
              {"boot", "order=scsi0"},
              {"net0", "virtio=BC:24:11:00:00:01,bridge=vmbr0"},
              {"serial0", "socket"}};
  if (opt.template_is_template) t.config["template"] = "1";
  if (opt.template_cloudinit)
    t.config["ide2"] = st + ":vm-" + std::to_string(t.vmid) + "-cloudinit,media=cdrom";
  if (opt.template_agent) t.config["agent"] = "1";
  vms[t.vmid] = t;
}

std::optional<Fault> PveSim::Impl::take_fault(Fault::Kind kind, const CallCtx& c) {
  for (auto it = faults.begin(); it != faults.end(); ++it) {
    if (it->kind != kind || it->count == 0) continue;
    if (!it->method.empty() && it->method != c.method) continue;
    if (!it->path.empty() && !std::regex_search(c.path, std::regex(it->path))) continue;
    Fault f = *it;
    if (it->count > 0 && --it->count == 0) faults.erase(it);
    return f;
  }
  return std::nullopt;
}

std::string PveSim::Impl::start_task(CallCtx& c, const std::string& node, const std::string& type,
                                     const std::string& id, std::function<std::string()> work,
                                     std::function<void(bool)> finish) {
  long now = static_cast<long>(std::time(nullptr));
  char buf[256];
  unsigned task_pid = ++pid;
  std::snprintf(buf, sizeof buf, "UPID:%s:%08X:%08X:%08lX:%s:%s:%s:", node.c_str(), task_pid,
                task_pid * 7919u, now, type.c_str(), id.c_str(), c.user.c_str());
  SimTask task{buf, node, type, id, c.user, true, "", {}, now};
  std::string upid = task.upid;
  tasks[upid] = task;
  ++running_tasks;
  auto duration = opt.task_duration + (c.slow_task ? c.slow_task->delay : std::chrono::milliseconds(0));
  std::optional<std::string> forced =
      c.task_fail ? std::optional<std::string>(c.task_fail->message) : std::nullopt;
  threads.emplace_back([this, upid, duration, forced, work = std::move(work), finish = std::move(finish)] {
    std::this_thread::sleep_for(duration);
    std::string error = forced ? *forced : (work ? work() : "");
    std::lock_guard<std::mutex> lock(mu);
    if (finish) finish(error.empty());
    SimTask& t = tasks[upid];
    t.running = false;
    if (error.empty()) {
      t.exitstatus = "OK";
      t.log.push_back("TASK OK");
    } else {
      t.exitstatus = error;
      t.log.push_back("TASK ERROR: " + error);
    }
    if (--running_tasks == 0) idle.notify_all();
  });
  return upid;
}

SimResponse PveSim::Impl::control(const SimRequest& r) {
  std::lock_guard<std::mutex> lock(mu);
  if (r.path == "/sim/faults" && r.method == "DELETE") {
    faults.clear();
    return json_ok(nullptr);
  }
  if (r.path == "/sim/faults" && r.method == "POST") {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    nlohmann::json list = j.is_object() && j.contains("faults") ? j["faults"] : nlohmann::json::array({j});
    for (const auto& f : list) {
      std::optional<Fault> fault = fault_from_json(f);
      if (!fault) return api_fail(400, "bad fault");
      faults.push_back(*fault);
    }
    return json_ok(nullptr);
  }
  std::vector<std::string> seg = split_path(r.path);
  if (r.method == "POST" && seg.size() == 4 && seg[1] == "nodes" && seg[3] == "status" &&
      node_status.count(seg[2])) {
    Params p = parse_params(r);
    node_status[seg[2]] = p["status"].empty() ? "online" : p["status"];
    return json_ok(nullptr);
  }
  if (r.method == "GET" && r.path == "/sim/state") {
    nlohmann::json out = {{"vms", nlohmann::json::array()},
                          {"running_tasks", running_tasks},
                          {"tasks", tasks.size()},
                          {"task_types", nlohmann::json::object()}};
    for (const auto& [upid, t] : tasks) {
      int n = out["task_types"].value(t.type, 0);
      out["task_types"][t.type] = n + 1;
    }
    for (const auto& [id, vm] : vms) {
      out["vms"].push_back({{"vmid", id},
                            {"node", vm.node},
                            {"running", vm.running},
                            {"template", vm.is_template},
                            {"lock", vm.lock},
                            {"config", vm.config}});
    }
    return json_ok(out);
  }
  return api_fail(404, "no such simulator call");
}

SimResponse PveSim::Impl::handle(const SimRequest& r) {
  if (r.path.rfind("/sim/", 0) == 0) return control(r);
  const std::string prefix = "/api2/json";
  if (r.path.rfind(prefix, 0) != 0) return api_fail(501, "Not Implemented");
  if ((r.method == "GET" || r.method == "DELETE") && !r.body.empty()) {
    return api_fail(501, "Unexpected content for method '" + r.method + "'");
  }
  CallCtx c;
  c.method = r.method;
  c.path = r.path.substr(prefix.size());
  c.seg = split_path(c.path);
  c.params = parse_params(r);

  if (c.path == "/access/ticket" && r.method == "POST") {
    if (opt.password.empty() || c.params["username"] != opt.user || c.params["password"] != opt.password) {
      std::this_thread::sleep_for(opt.auth_fail_delay);
      return {401, "authentication failure", ""};
    }
    std::string ticket = "PVE:" + opt.user + ":" + random_token(8) + "::" + random_token(40);
    std::string csrf = random_token(8) + ":" + random_token(40);
    std::lock_guard<std::mutex> lock(mu);
    tickets[ticket] = csrf;
    return json_ok({{"ticket", ticket}, {"CSRFPreventionToken", csrf}, {"username", opt.user}});
  }

  // Authentication: API token, or ticket cookie (+ CSRF token on writes).
  auto header = [&](const char* name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? std::string() : it->second;
  };
  std::string authz = header("authorization");
  std::string cookie = header("cookie");
  const std::string token_prefix = "PVEAPIToken=";
  bool authed = false;
  if (authz.rfind(token_prefix, 0) == 0) {
    std::string value = authz.substr(token_prefix.size());
    if (value == opt.token) {
      authed = true;
      c.user = value.substr(0, value.find('='));
    }
  } else if (size_t at = cookie.find("PVEAuthCookie="); at != std::string::npos) {
    std::string ticket =
        cookie.substr(at + 14, cookie.find(';', at) == std::string::npos ? std::string::npos
                                                                         : cookie.find(';', at) - at - 14);
    std::lock_guard<std::mutex> lock(mu);
    auto t = tickets.find(ticket);
    if (t != tickets.end()) {
      if (r.method != "GET" && header("csrfpreventiontoken") != t->second) {
        return {401, "Permission denied - invalid csrf token", ""};
      }
      authed = true;
      c.user = opt.user;
    }
  } else {
    return {401, "No ticket", ""};
  }
  if (!authed) {
    std::this_thread::sleep_for(opt.auth_fail_delay);
    return {401, "Authentication failed!", ""};
  }

  std::unique_lock<std::mutex> lock(mu);
  if (auto f = take_fault(Fault::Kind::http_error, c)) return api_fail(f->status, f->reason);
  if (auto f = take_fault(Fault::Kind::lock_timeout, c)) {
    std::string id = c.seg.size() > 3 && c.seg[2] == "qemu" ? c.seg[3] : "0";
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return api_fail(500, "can't lock file '/var/lock/qemu-server/lock-" + id + ".conf' - got timeout");
  }
  c.task_fail = take_fault(Fault::Kind::task_fail, c);
  if (auto f = take_fault(Fault::Kind::task_lock_timeout, c)) {
    // A worker's lock_config_full($vmid, 1, ...) gives up after its time-out and the task ends
    // with the error (qemu-server: src/PVE/API2/Qemu.pm; pve-guest-common: AbstractConfig.pm).
    std::string id = c.seg.size() > 3 && c.seg[2] == "qemu" ? c.seg[3] : "0";
    f->message = "can't lock file '/var/lock/qemu-server/lock-" + id + ".conf' - got timeout";
    c.task_fail = f;
  }
  c.slow_task = take_fault(Fault::Kind::slow_task, c);
  SimResponse res = route(c);
  if (auto f = take_fault(Fault::Kind::answer_lost, c)) return api_fail(f->status, f->reason);
  return res;
}

SimResponse PveSim::Impl::route(CallCtx& c) {
  const auto& s = c.seg;
  const std::string& m = c.method;
  if (m == "GET" && c.path == "/version") {
    std::string release = opt.version >= 9 ? "9.0" : "8.4";
    return json_ok({{"version", release + ".3"}, {"release", release}, {"repoid", "ec5affc9e41f1d79"}});
  }
  // pve-access-control: src/PVE/API2/AccessControl.pm 'permissions': path => {privilege => propagate}.
  if (m == "GET" && c.path == "/access/permissions") {
    nlohmann::json privs = nlohmann::json::object();
    for (const auto& p : all_privileges(opt.version)) {
      if (allowed(p)) privs[p] = 1;
    }
    std::string path = c.params.count("path") ? c.params["path"] : "/";
    return json_ok({{path, privs}});
  }
  // pve-storage: src/PVE/API2/Storage/Config.pm index (storage.cfg; `shared` set for shared ones)
  // and src/PVE/API2/Storage/Status.pm index (per node: only the storages available there).
  bool node_storage = s.size() == 3 && s[0] == "nodes" && s[2] == "storage" && node_status.count(s[1]);
  if (m == "GET" && (c.path == "/storage" || node_storage)) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& st : opt.storages) {
      if (!allowed("Datastore.Audit") && !allowed("Datastore.AllocateSpace")) continue;
      bool here = st.nodes.empty() || std::find(st.nodes.begin(), st.nodes.end(), s[1]) != st.nodes.end();
      if (node_storage && !here) continue;
      nlohmann::json e = {{"storage", st.id}, {"type", st.type}, {"content", "images,rootdir"}};
      if (st.shared) e["shared"] = 1;
      if (node_storage) {
        e["shared"] = st.shared ? 1 : 0;
        e["active"] = 1;
        e["enabled"] = 1;
      }
      out.push_back(e);
    }
    return json_ok(out);
  }
  if (m == "GET" && c.path == "/nodes") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : opt.nodes) {
      out.push_back({{"node", n},
                     {"status", node_status[n]},
                     {"type", "node"},
                     {"id", "node/" + n},
                     {"maxcpu", 16},
                     {"maxmem", 68719476736LL},
                     {"cpu", 0.02},
                     {"mem", 4294967296LL},
                     {"level", ""},
                     {"ssl_fingerprint", fingerprint}});
    }
    return json_ok(out);
  }
  if (m == "GET" && c.path == "/cluster/nextid") {
    int id = next_free_id();
    if (c.params.count("vmid")) {
      if (std::string e = check_integer(c.params["vmid"], 100, 999999999); !e.empty())
        return param_fail({{"vmid", e}});
      id = std::stoi(c.params["vmid"]);
      if (vms.count(id)) return param_fail({{"vmid", "VM " + std::to_string(id) + " already exists"}});
    }
    if (take_fault(Fault::Kind::steal_next_id, c)) {
      SimVm intruder;
      intruder.vmid = id;
      intruder.node = opt.nodes.back();
      intruder.config = {{"name", "someone-elses-vm"}, {"memory", "512"}};
      vms[id] = intruder;
    }
    return json_ok(std::to_string(id));
  }
  if (m == "GET" && c.path == "/cluster/resources") {
    std::string type = c.params.count("type") ? c.params["type"] : "";
    if (opt.stats_interval.count() == 0 || std::chrono::steady_clock::now() >= next_stats) refresh_stats();
    nlohmann::json out = nlohmann::json::array();
    if (type.empty() || type == "vm") {
      for (const auto& [id, vm] : vms) out.push_back(resource_of(vm));
    }
    if (type.empty() || type == "node") {
      for (const auto& n : opt.nodes)
        out.push_back({{"id", "node/" + n}, {"type", "node"}, {"node", n}, {"status", node_status[n]}});
    }
    return json_ok(out);
  }
  if (s.size() >= 2 && s[0] == "nodes") {
    if (node_status.count(s[1]) == 0) {
      return api_fail(500, "hostname lookup '" + s[1] + "' failed - failed to get address info for: " + s[1] +
                               ": Name or service not known");
    }
    if (node_status[s[1]] != "online") return api_fail(595, "Connection refused");
    if (s.size() == 5 && s[2] == "tasks" && m == "GET") {
      const std::string& upid = s[3];
      if (take_fault(Fault::Kind::task_invisible, c) || tasks.count(upid) == 0 || tasks[upid].node != s[1]) {
        return param_fail({{"upid", "no such task"}});
      }
      const SimTask& t = tasks[upid];
      if (s[4] == "status") {
        nlohmann::json d = {{"upid", t.upid},
                            {"node", t.node},
                            {"type", t.type},
                            {"id", t.id},
                            {"user", t.user},
                            {"starttime", t.starttime},
                            {"status", t.running ? "running" : "stopped"},
                            {"pid", 1234}};
        if (!t.running) d["exitstatus"] = t.exitstatus;
        return json_ok(d);
      }
      if (s[4] == "log") {
        nlohmann::json out = nlohmann::json::array();
        for (size_t i = 0; i < t.log.size(); ++i) out.push_back({{"n", i + 1}, {"t", t.log[i]}});
        return json_ok(out);
      }
    }
    if (s.size() >= 3 && s[2] == "qemu") return vm_call(c);
  }
  return api_fail(501, "Method '" + m + " " + c.path + "' not implemented");
}

PveSim::PveSim(SimOptions options, VmBackend& backend)
    : impl_(std::make_unique<Impl>(std::move(options), backend)) {}

PveSim::~PveSim() {
  wait_idle();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    threads.swap(impl_->threads);
  }
  for (auto& t : threads) t.join();
}

SimResponse PveSim::handle(const SimRequest& request) {
  return impl_->handle(request);
}

void PveSim::inject(Fault fault) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->faults.push_back(std::move(fault));
}

void PveSim::set_fingerprint(const std::string& fingerprint) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->fingerprint = fingerprint;
}

void PveSim::clear_faults() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->faults.clear();
}

void PveSim::set_node_status(const std::string& node, const std::string& status) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->node_status[node] = status;
}

nlohmann::json PveSim::state() {
  SimRequest r;
  r.method = "GET";
  r.path = "/sim/state";
  return nlohmann::json::parse(impl_->control(r).body)["data"];
}

void PveSim::add_foreign_vm(int vmid, const std::string& node, const std::string& name) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  SimVm vm;
  vm.vmid = vmid;
  vm.node = node;
  vm.config = {{"name", name}, {"memory", "512"}};
  impl_->vms[vmid] = vm;
}

void PveSim::wait_idle() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->idle.wait(lock, [this] { return impl_->running_tasks == 0; });
}

SimServer::SimServer(SimOptions options, VmBackend& backend) : sim_(std::move(options), backend) {}

SimServer::~SimServer() {
  stop();
}

bool SimServer::start(const std::string& cert_dir, const std::string& host, int port, std::string& error) {
  TlsFiles tls;
  if (!ensure_tls_files(cert_dir, tls, error)) return false;
  ca_file_ = tls.ca_cert;
  fingerprint_ = tls.fingerprint;
  sim_.set_fingerprint(fingerprint_);
  server_ = std::make_unique<HttpsServer>(tls.server_cert, tls.server_key,
                                          [this](const SimRequest& r) { return sim_.handle(r); });
  port_ = server_->start(host, port, error);
  host_ = host;
  return port_ > 0;
}

void SimServer::stop() {
  if (server_) server_->stop();
}

std::string SimServer::endpoint() const {
  return "https://" + host_ + ":" + std::to_string(port_);
}

}  // namespace pgha::sim
