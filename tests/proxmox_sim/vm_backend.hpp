// What stands behind a simulated VM. The simulator's API model calls this when a VM starts, is
// stopped or destroyed; the Docker implementation (docker_backend.*) makes each VM a real
// container, the null one (for fast unit tests) only remembers.
#pragma once

#include <map>
#include <mutex>
#include <string>

namespace pgha::sim {

// A VM as cloud-init would configure it on first boot.
struct VmSpec {
  int vmid = 0;
  std::string name;     // hostname
  std::string address;  // ipconfig0 ip ("" = dhcp)
  int prefix = 24;
  std::string gateway;
  std::string ciuser;
  std::string authorized_keys;  // the decoded sshkeys, one per line
  std::string nameserver;
};

class VmBackend {
 public:
  virtual ~VmBackend() = default;
  // Boots the VM: creates its machine on first start, then starts it. "" on success, else the error
  // text (the start task fails with it).
  virtual std::string start(const VmSpec& spec) = 0;
  // Cuts the power (a hard stop). Success when it is not running.
  virtual std::string kill(int vmid) = 0;
  // Removes the machine and its disk. Success when it does not exist.
  virtual std::string remove(int vmid) = 0;
  // True when the VM's guest is up far enough for its agent to answer.
  virtual bool guest_ready(int vmid) = 0;
};

// Remembers what it was told; every call succeeds.
class NullBackend final : public VmBackend {
 public:
  std::string start(const VmSpec& spec) override {
    std::lock_guard<std::mutex> lock(mu_);
    running_[spec.vmid] = true;
    specs_[spec.vmid] = spec;
    return "";
  }
  std::string kill(int vmid) override {
    std::lock_guard<std::mutex> lock(mu_);
    running_[vmid] = false;
    return "";
  }
  std::string remove(int vmid) override {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(vmid);
    specs_.erase(vmid);
    return "";
  }
  bool guest_ready(int vmid) override {
    std::lock_guard<std::mutex> lock(mu_);
    return running_.count(vmid) != 0 && running_[vmid];
  }
  std::map<int, VmSpec> specs() {
    std::lock_guard<std::mutex> lock(mu_);
    return specs_;
  }

 private:
  std::mutex mu_;
  std::map<int, bool> running_;
  std::map<int, VmSpec> specs_;
};

}  // namespace pgha::sim
