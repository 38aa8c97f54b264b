#include "providers/proxmox/proxmox_vm_ops.hpp"

#include <algorithm>
#include <cstdlib>

#include "providers/proxmox/proxmox_params.hpp"

namespace pgha::pve {

namespace {

int as_int(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int>();
  if (v.is_string()) {
    try {
      return std::stoi(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

std::string as_string(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key)) return "";
  const auto& v = obj[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return "";
}

// The boot disk's key: the first disk in "boot: order=scsi0;net0", else the first common one present.
std::string boot_disk(const nlohmann::json& config) {
  std::string boot = as_string(config, "boot");
  if (boot.rfind("order=", 0) == 0) {
    for (const auto& dev : split_tags(boot.substr(6))) {
      if (dev.rfind("net", 0) != 0 && config.contains(dev) &&
          as_string(config, dev.c_str()).find("size=") != std::string::npos) {
        return dev;
      }
    }
  }
  for (const char* key : {"scsi0", "virtio0", "sata0", "ide0"}) {
    if (as_string(config, key).find("size=") != std::string::npos) return key;
  }
  return "";
}

}  // namespace

bool VmInfo::has_tag(const std::string& tag) const {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

VmOps::VmOps(Client& client, Clock& clock, Timing timing, Notify warn)
    : client_(client), clock_(clock), timing_(timing), warn_(std::move(warn)) {}

std::string VmOps::vm_path(const VmInfo& vm) const {
  return "/nodes/" + vm.host + "/qemu/" + std::to_string(vm.vmid);
}

Result<nlohmann::json> VmOps::read(const std::string& path, const Params& params) {
  return retry_call(clock_, timing_.retry, [&] { return client_.get(path, params); });
}

Result<std::vector<HostInfo>> VmOps::hosts() {
  Result<nlohmann::json> r = read("/nodes");
  if (!r) return r.error();
  std::vector<HostInfo> out;
  if (r->is_array()) {
    for (const auto& n : *r) out.push_back({as_string(n, "node"), as_string(n, "status")});
  }
  return out;
}

Result<std::vector<VmInfo>> VmOps::vms() {
  Result<nlohmann::json> r = read("/cluster/resources", {{"type", "vm"}});
  if (!r) return r.error();
  std::vector<VmInfo> out;
  if (!r->is_array()) return out;
  for (const auto& v : *r) {
    if (as_string(v, "type") != "" && as_string(v, "type") != "qemu") continue;
    VmInfo vm;
    vm.vmid = as_int(v.value("vmid", nlohmann::json()));
    vm.host = as_string(v, "node");
    vm.name = as_string(v, "name");
    vm.status = as_string(v, "status");
    vm.is_template = as_int(v.value("template", nlohmann::json())) == 1;
    vm.tags = split_tags(as_string(v, "tags"));
    vm.lock = as_string(v, "lock");
    out.push_back(std::move(vm));
  }
  return out;
}

Result<int> VmOps::next_id() {
  Result<nlohmann::json> r = client_.get("/cluster/nextid");
  if (!r) return r.error();
  int id = as_int(*r);
  if (id <= 0) return Error(ErrorKind::remote_failure, "/cluster/nextid answered " + r->dump());
  return id;
}

Result<nlohmann::json> VmOps::config(const VmInfo& vm) {
  return client_.get(vm_path(vm) + "/config");
}

Result<VmInfo> VmOps::with_config(const VmInfo& vm) {
  Result<nlohmann::json> cfg = read(vm_path(vm) + "/config");
  if (!cfg) return cfg.error();
  VmInfo out = vm;
  out.name = as_string(*cfg, "name");
  out.lock = as_string(*cfg, "lock");
  out.tags = split_tags(as_string(*cfg, "tags"));
  out.is_template = as_int(cfg->value("template", nlohmann::json())) == 1;
  return out;
}

Result<int> VmOps::major_version() {
  Result<nlohmann::json> r = read("/version");
  if (!r) return r.error();
  int major = std::atoi(as_string(*r, "version").c_str());  // "9.0.3" -> 9
  if (major <= 0) return Error(ErrorKind::remote_failure, "GET /version answered " + r->dump());
  return major;
}

Result<std::map<std::string, bool>> VmOps::storages(const std::string& host) {
  Result<nlohmann::json> r = read(host.empty() ? "/storage" : "/nodes/" + host + "/storage");
  if (!r) return r.error();
  std::map<std::string, bool> out;
  if (!r->is_array()) return out;
  for (const auto& st : *r) {
    if (!host.empty() && st.contains("enabled") && as_int(st["enabled"]) != 1) continue;
    out[as_string(st, "storage")] = st.contains("shared") && as_int(st["shared"]) == 1;
  }
  return out;
}

Result<std::set<std::string>> VmOps::privileges(const std::string& path) {
  Result<nlohmann::json> r = read("/access/permissions", {{"path", path}});
  if (!r) return r.error();
  std::set<std::string> out;
  if (r->is_object() && r->contains(path) && (*r)[path].is_object()) {
    for (const auto& [priv, propagate] : (*r)[path].items()) out.insert(priv);
  }
  return out;
}

Status VmOps::run_task(const std::string& method, const std::string& path, const Params& params) {
  auto dispatch = [&]() -> Result<nlohmann::json> {
    if (method == "POST") return client_.post(path, params);
    if (method == "PUT") return client_.put(path, params);
    return client_.del(path, params);
  };
  std::chrono::milliseconds delay = timing_.retry.first_delay;
  for (int attempt = 1;; ++attempt) {
    Result<nlohmann::json> r = retry_call(clock_, timing_.retry, dispatch, [&](const Error& e) {
      if (warn_) warn_("retrying " + method + " " + path + ": " + e.message);
    });
    if (!r) return r.error();
    if (r->is_null()) return {};  // a synchronous call (resize on old versions)
    if (!r->is_string())
      return Error(ErrorKind::remote_failure, "expected a task id, got " + r->dump()).with(path);
    Result<TaskOutcome> t = wait_task(client_, r->get<std::string>(), clock_, timing_.task);
    if (t) {
      if (t->warnings > 0 && warn_) warn_(method + " " + path + " finished with " + t->exitstatus);
      return {};
    }
    // The worker, not the dispatch, takes the config lock: a lock time-out is the task's exit
    // status, and the task did nothing. Dispatch it again, as a dispatch error would be.
    if (!is_lock_timeout(t.error()) || attempt >= timing_.retry.attempts)
      return std::move(t.error()).with(method + " " + path);
    if (warn_) warn_("retrying " + method + " " + path + ": " + t.error().message);
    clock_.sleep(delay);
    delay = std::min(delay * 2, timing_.retry.max_delay);
  }
}

Result<VmInfo> VmOps::clone(const CloneSpec& spec, const std::function<void(const VmInfo&)>& on_id,
                            const std::function<void(const VmInfo&)>& on_drop) {
  const std::string path =
      "/nodes/" + spec.source_host + "/qemu/" + std::to_string(spec.source_vmid) + "/clone";
  const bool moves = !spec.target_host.empty() && spec.target_host != spec.source_host;
  const std::string final_host = moves ? spec.target_host : spec.source_host;
  int lock_timeouts = 0;
  std::chrono::milliseconds delay = timing_.retry.first_delay;
  for (int round = 0; round < 8; ++round) {
    Result<int> id = next_id();
    if (!id) return id.error();
    Params params = {{"newid", std::to_string(*id)}, {"name", spec.name}, {"full", spec.full ? "1" : "0"}};
    if (moves) params.emplace_back("target", spec.target_host);
    if (spec.full && !spec.storage.empty()) params.emplace_back("storage", spec.storage);
    int attempts = 0;
    Result<nlohmann::json> r = retry_call(
        clock_, timing_.retry,
        [&] {
          ++attempts;
          return client_.post(path, params);
        },
        [&](const Error& e) {
          if (warn_) warn_("retrying clone of " + spec.name + ": " + e.message);
        });
    VmInfo vm{*id, final_host, spec.name, "stopped", false, {}, ""};
    Error failure;
    if (r) {
      if (!r->is_string()) return Error(ErrorKind::remote_failure, "clone answered " + r->dump()).with(path);
      on_id(vm);
      Result<TaskOutcome> t = wait_task(client_, r->get<std::string>(), clock_, timing_.task);
      if (t) return vm;
      failure = std::move(t.error());
    } else if (r.error().kind == ErrorKind::conflict) {
      failure = std::move(r.error());
    } else {
      return std::move(r.error()).with("clone " + spec.name);  // retry_call retried what it could
    }
    bool taken = failure.kind == ErrorKind::conflict;
    if (!taken && !is_lock_timeout(failure)) {
      // A clone task that failed removed its placeholder: nothing of ours is left under the id. (A
      // task still running when pgha gave up keeps its record: the next run waits for it.)
      if (r && failure.message.rfind("task failed", 0) == 0) on_drop(vm);
      return std::move(failure).with("clone " + spec.name);
    }
    if (attempts > 1) {
      // Our earlier dispatch may have gone through before its answer was lost; its task then holds
      // the id (and its lock) while this one fails.
      Result<std::optional<VmInfo>> mine = adopt(*id, spec);
      if (!mine) return std::move(mine.error()).with("clone " + spec.name);
      if (*mine) {
        on_id(**mine);
        return **mine;
      }
    }
    if (r) on_drop(vm);  // recorded when the dispatch succeeded; the id is not ours
    if (taken) {
      if (warn_)
        warn_("VM id " + std::to_string(*id) + " was taken before the clone of " + spec.name + " (" +
              failure.message + "); picking another");
      continue;
    }
    if (++lock_timeouts >= timing_.retry.attempts) return std::move(failure).with("clone " + spec.name);
    if (warn_) warn_("retrying clone of " + spec.name + ": " + failure.message);
    clock_.sleep(delay);
    delay = std::min(delay * 2, timing_.retry.max_delay);
  }
  return Error(ErrorKind::conflict, "VM ids kept being taken by other clients").with("clone " + spec.name);
}

Result<std::optional<VmInfo>> VmOps::adopt(int id, const CloneSpec& spec) {
  Result<std::vector<VmInfo>> all = vms();
  if (!all) return all.error();
  for (const VmInfo& listed : *all) {
    if (listed.vmid != id) continue;
    Result<VmInfo> vm = with_config(listed);
    if (!vm && vm.error().kind == ErrorKind::not_found) return std::optional<VmInfo>();
    if (!vm) return vm.error();
    if (vm->lock != "clone" && vm->name != spec.name) return std::optional<VmInfo>();
    Result<VmInfo> done = wait_unlocked(id);
    if (!done) {
      if (done.error().kind == ErrorKind::not_found) return std::optional<VmInfo>();
      return done.error();
    }
    if (done->name != spec.name) return std::optional<VmInfo>();
    return std::optional<VmInfo>(*done);
  }
  return std::optional<VmInfo>();
}

Result<VmInfo> VmOps::migrate(const VmInfo& vm, const std::string& target,
                              const std::string& target_storage) {
  Params params = {{"target", target}};
  if (!target_storage.empty()) params.emplace_back("targetstorage", target_storage);
  if (Status s = run_task("POST", vm_path(vm) + "/migrate", params); !s) return s.error();
  VmInfo out = vm;
  out.host = target;
  return out;
}

Result<VmInfo> VmOps::wait_unlocked(int vmid) {
  const auto deadline = clock_.now() + timing_.task.timeout;
  while (true) {
    Result<std::vector<VmInfo>> all = vms();
    if (!all) return all.error();
    const VmInfo* found = nullptr;
    for (const VmInfo& vm : *all) {
      if (vm.vmid == vmid) found = &vm;
    }
    if (found == nullptr) return Error(ErrorKind::not_found, "VM " + std::to_string(vmid) + " is gone");
    Result<VmInfo> vm = with_config(*found);
    // not_found: the config moved to another host between the two reads; look again.
    if (!vm && vm.error().kind != ErrorKind::not_found) return vm.error();
    if (vm && vm->lock.empty()) return vm;
    if (clock_.now() >= deadline) {
      return Error(ErrorKind::timeout, "VM " + std::to_string(vmid) + " still locked" +
                                           (vm ? " (" + vm->lock + ")" : std::string()));
    }
    clock_.sleep(timing_.task.poll_interval);
  }
}

Status VmOps::configure(const VmInfo& vm, const Params& params) {
  Result<nlohmann::json> r = retry_call(
      clock_, timing_.retry, [&] { return client_.put(vm_path(vm) + "/config", params); },
      [&](const Error& e) {
        if (warn_) warn_("retrying configuration of VM " + std::to_string(vm.vmid) + ": " + e.message);
      });
  if (!r) return r.error();
  return {};
}

Status VmOps::grow_disk(const VmInfo& vm, int gib) {
  Result<nlohmann::json> cfg = config(vm);
  if (!cfg) return cfg.error();
  std::string disk = boot_disk(*cfg);
  if (disk.empty())
    return Error(ErrorKind::bad_input, "VM " + std::to_string(vm.vmid) + " has no disk to resize");
  if (disk_size_gib(as_string(*cfg, disk.c_str())) >= gib) return {};
  return run_task("PUT", vm_path(vm) + "/resize", {{"disk", disk}, {"size", std::to_string(gib) + "G"}});
}

Result<std::string> VmOps::current_status(const VmInfo& vm) {
  Result<nlohmann::json> r = read(vm_path(vm) + "/status/current");
  if (!r) return r.error();
  return as_string(*r, "status");
}

Status VmOps::start(const VmInfo& vm) {
  Result<std::string> s = current_status(vm);
  if (!s) return s.error();
  if (*s == "running") return {};
  return run_task("POST", vm_path(vm) + "/status/start", {});
}

Status VmOps::stop(const VmInfo& vm) {
  Result<std::string> s = current_status(vm);
  if (!s) return s.error();
  if (*s != "running") return {};
  return run_task("POST", vm_path(vm) + "/status/stop", {});
}

Status VmOps::destroy(const VmInfo& vm) {
  return run_task("DELETE", vm_path(vm), {{"purge", "1"}, {"destroy-unreferenced-disks", "1"}});
}

Status VmOps::wait_agent(const VmInfo& vm, std::chrono::steady_clock::time_point deadline) {
  std::string last;
  while (true) {
    Result<nlohmann::json> r = client_.post(vm_path(vm) + "/agent/ping");
    if (r) return {};
    if (!is_retryable(r.error()))
      return std::move(r.error()).with("guest agent of VM " + std::to_string(vm.vmid));
    last = r.error().message;
    if (clock_.now() >= deadline) {
      return Error(ErrorKind::timeout, "the guest agent of VM " + std::to_string(vm.vmid) +
                                           " did not answer in time (last: " + last +
                                           "); is qemu-guest-agent installed and enabled in the template?");
    }
    clock_.sleep(timing_.boot_poll);
  }
}

}  // namespace pgha::pve
