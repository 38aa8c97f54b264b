#include "providers/proxmox/proxmox_vm_ops.hpp"

#include <algorithm>

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

Status VmOps::run_task(const std::string& method, const std::string& path, const Params& params) {
  auto dispatch = [&]() -> Result<nlohmann::json> {
    if (method == "POST") return client_.post(path, params);
    if (method == "PUT") return client_.put(path, params);
    return client_.del(path, params);
  };
  Result<nlohmann::json> r = retry_call(clock_, timing_.retry, dispatch, [&](const Error& e) {
    if (warn_) warn_("retrying " + method + " " + path + ": " + e.message);
  });
  if (!r) return r.error();
  if (r->is_null()) return {};  // a synchronous call (resize on old versions)
  if (!r->is_string())
    return Error(ErrorKind::remote_failure, "expected a task id, got " + r->dump()).with(path);
  Result<TaskOutcome> t = wait_task(client_, r->get<std::string>(), clock_, timing_.task);
  if (!t) return std::move(t.error()).with(method + " " + path);
  if (t->warnings > 0 && warn_) warn_(method + " " + path + " finished with " + t->exitstatus);
  return {};
}

Result<VmInfo> VmOps::clone(const CloneSpec& spec, const std::function<void(const VmInfo&)>& on_id) {
  const std::string path =
      "/nodes/" + spec.source_host + "/qemu/" + std::to_string(spec.source_vmid) + "/clone";
  for (int race = 0; race < 5; ++race) {
    Result<int> id = next_id();
    if (!id) return id.error();
    Params params = {{"newid", std::to_string(*id)},
                     {"name", spec.name},
                     {"full", spec.full ? "1" : "0"},
                     {"target", spec.target_host}};
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
    VmInfo vm{*id, spec.target_host, spec.name, "stopped", false, {}, ""};
    if (r) {
      if (!r->is_string()) return Error(ErrorKind::remote_failure, "clone answered " + r->dump()).with(path);
      on_id(vm);
      Result<TaskOutcome> t = wait_task(client_, r->get<std::string>(), clock_, timing_.task);
      if (!t) return std::move(t.error()).with("clone " + spec.name);
      return vm;
    }
    if (r.error().kind != ErrorKind::conflict) return std::move(r.error()).with("clone " + spec.name);
    if (attempts > 1) {
      // Our earlier dispatch may have gone through before its answer was lost.
      Result<std::vector<VmInfo>> all = vms();
      if (!all) return all.error();
      for (const auto& existing : *all) {
        if (existing.vmid == *id && existing.name == spec.name && existing.host == spec.target_host) {
          on_id(existing);
          if (Status s = wait_unlocked(existing); !s) return s.error();
          return existing;
        }
      }
    }
    if (warn_)
      warn_("VM id " + std::to_string(*id) + " was taken before the clone of " + spec.name +
            "; picking another");
  }
  return Error(ErrorKind::conflict, "VM ids kept being taken by other clients").with("clone " + spec.name);
}

Status VmOps::wait_unlocked(const VmInfo& vm) {
  const auto deadline = clock_.now() + timing_.task.timeout;
  while (true) {
    Result<nlohmann::json> r = client_.get(vm_path(vm) + "/status/current");
    if (!r && !is_retryable(r.error())) return std::move(r.error()).with("VM " + std::to_string(vm.vmid));
    if (r && as_string(*r, "lock").empty()) return {};
    if (clock_.now() >= deadline) {
      return Error(ErrorKind::timeout, "VM " + std::to_string(vm.vmid) + " still locked");
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
