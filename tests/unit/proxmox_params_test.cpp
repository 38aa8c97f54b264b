#include "providers/proxmox/proxmox_params.hpp"

#include <gtest/gtest.h>

namespace pgha::pve {
namespace {

TEST(ProxmoxParams, PercentEncodeKeepsOnlyUnreservedAndUsesPercent20ForSpaces) {
  EXPECT_EQ(percent_encode("a b+c/d=e\n"), "a%20b%2Bc%2Fd%3De%0A");
  EXPECT_EQ(percent_encode("Az09-._~"), "Az09-._~");
  EXPECT_EQ(percent_decode("a%20b%2Bc%zz+"), "a b+c%zz+");
}

TEST(ProxmoxParams, FormEncodeOrdersAndEncodes) {
  EXPECT_EQ(form_encode({{"name", "pg1"}, {"ipconfig0", "ip=10.0.0.5/24,gw=10.0.0.1"}}),
            "name=pg1&ipconfig0=ip%3D10.0.0.5%2F24%2Cgw%3D10.0.0.1");
}

TEST(ProxmoxParams, SshKeysAreDoubleEncodedExactlyAsTheApiDemands) {
  const std::string key = "ssh-ed25519 AAAAC3Nza+/x= pgha@cluster";
  std::string inner = sshkeys_value({key});
  EXPECT_EQ(inner, "ssh-ed25519%20AAAAC3Nza%2B%2Fx%3D%20pgha%40cluster%0A");
  // What the server sees after decoding the form once must match its regex...
  std::string body = form_encode({{"sshkeys", inner}});
  EXPECT_EQ(body, "sshkeys=ssh-ed25519%2520AAAAC3Nza%252B%252Fx%253D%2520pgha%2540cluster%250A");
  std::string once = percent_decode(body.substr(8));
  EXPECT_EQ(once, inner);
  EXPECT_EQ(
      once.find_first_not_of("-%abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.!~*'()"),
      std::string::npos);
  // ... and un-escape to the keys.
  EXPECT_EQ(percent_decode(once), key + "\n");
}

TEST(ProxmoxParams, SshKeysJoinSeveralKeysAndDropTrailingNewlines) {
  EXPECT_EQ(percent_decode(sshkeys_value({"ssh-rsa AAA a\n", "", "ssh-ed25519 BBB b"})),
            "ssh-rsa AAA a\nssh-ed25519 BBB b\n");
}

TEST(ProxmoxParams, IpconfigAndNet) {
  EXPECT_EQ(ipconfig("10.0.0.5", 24, "10.0.0.1"), "ip=10.0.0.5/24,gw=10.0.0.1");
  EXPECT_EQ(ipconfig("10.0.0.5", 16, ""), "ip=10.0.0.5/16");
  EXPECT_EQ(net_device("vmbr0", 0), "virtio,bridge=vmbr0");
  EXPECT_EQ(net_device("vmbr1", 20), "virtio,bridge=vmbr1,tag=20");
}

TEST(ProxmoxParams, Tags) {
  EXPECT_EQ(cluster_tag("Prod_DB 1"), "pgha-prod_db-1");
  EXPECT_TRUE(is_valid_tag(cluster_tag("Prod_DB 1")));
  EXPECT_TRUE(is_valid_tag("a-b+c.d"));
  EXPECT_FALSE(is_valid_tag("-a"));
  EXPECT_FALSE(is_valid_tag("A"));
  EXPECT_FALSE(is_valid_tag(""));
  EXPECT_EQ(split_tags("a;b,c  d;"), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(join_tags({"a", "b"}), "a;b");
}

TEST(ProxmoxParams, DnsNames) {
  EXPECT_TRUE(is_dns_name("pg1"));
  EXPECT_TRUE(is_dns_name("pg-1.example.com"));
  EXPECT_FALSE(is_dns_name("pg_1"));
  EXPECT_FALSE(is_dns_name("-pg"));
  EXPECT_FALSE(is_dns_name("pg-"));
  EXPECT_FALSE(is_dns_name("a..b"));
  EXPECT_FALSE(is_dns_name(""));
}

TEST(ProxmoxParams, DiskSize) {
  EXPECT_EQ(disk_size_gib("local-lvm:vm-100-disk-0,size=32G"), 32);
  EXPECT_EQ(disk_size_gib("local:9000/base.qcow2,iothread=1,size=2252M"), 3);
  EXPECT_EQ(disk_size_gib("local:x,size=1T,ssd=1"), 1024);
  EXPECT_EQ(disk_size_gib("local:x"), 0);
}

}  // namespace
}  // namespace pgha::pve
