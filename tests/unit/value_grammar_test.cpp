// The value grammars the validator applies before a value reaches a config, a command or SQL.
#include <gtest/gtest.h>

#include "core/value_grammar.hpp"

namespace pgha {
namespace {

TEST(ValueGrammar, ControlCharactersAreFoundAndEscaped) {
  EXPECT_EQ(first_control_char("plain text, quotes ' \" and $"), "");
  EXPECT_EQ(first_control_char("a\nb"), "\\n");
  EXPECT_EQ(first_control_char(std::string("a\0b", 3)), "\\0");
  EXPECT_EQ(first_control_char("\x1b[31m"), "\\x1b");
  EXPECT_EQ(first_control_char("tab\there"), "\\t");
  EXPECT_EQ(first_control_char("del\x7f"), "\\x7f");
  EXPECT_EQ(first_control_char("caf\xc3\xa9"), "");
  EXPECT_EQ(escape_controls("a\nb\r\x1b[2J\x07"), "a\\nb\\r\\x1b[2J\\x07");
  EXPECT_EQ(escape_controls("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(ValueGrammar, InterfaceNamesFollowLinux) {
  for (const char* ok : {"eth0", "ens18", "enp0s31f6", "br-lan", "vmbr0.20", "a", "x23456789012345"}) {
    EXPECT_TRUE(valid_interface_name(ok)) << ok;
  }
  for (const char* bad :
       {"", ".", "..", "x234567890123456", "eth0/1", "eth0:1", "eth 0", "eth0\n", "\teth0",
        // Linux would take these; keepalived.conf cannot read them back (hostile_values_test).
        "eth0\"", "eth0'", "eth0#", "eth0!", "eth$x", "eth{", "eth}", "eth\\", "eth`"}) {
    EXPECT_FALSE(valid_interface_name(bad)) << bad;
  }
}

TEST(ValueGrammar, Identifiers) {
  for (const char* ok : {"nofailover", "noloadbalance", "clonefrom", "_x", "A1_b"})
    EXPECT_TRUE(valid_identifier(ok));
  for (const char* bad : {"", "1tag", "no-failover", "no failover", "a:b", "a.b", "tag\n"})
    EXPECT_FALSE(valid_identifier(bad)) << bad;
}

TEST(ValueGrammar, PathsUnderAPrefix) {
  const std::vector<std::string> prefixes = {"/var/lib/pgbackrest", "/srv"};
  for (const char* ok :
       {"/var/lib/pgbackrest", "/var/lib/pgbackrest/repo1", "/srv", "/srv/backups/pg-1.2_x+y",
        "/srv/a/...6666" /* dots in a name are no . or .. component (found by grammar_fuzzer) */}) {
    EXPECT_TRUE(valid_path_under(ok, prefixes)) << ok;
  }
  for (const char* bad : {"", "/", "srv/x", "/srv/", "/srv//x", "/srv/./x", "/srv/../etc", "/srv/x/..",
                          "/var/lib/pgbackrest/../../../etc", "/var/lib/etcd", "/srvx", "/srv/a b",
                          "/srv/a\nb", "/srv/a,b", "/srv/a=b", "/var/lib/postgresql"}) {
    EXPECT_FALSE(valid_path_under(bad, prefixes)) << bad;
  }
}

TEST(ValueGrammar, DockerImageReferences) {
  for (const char* ok :
       {"debian:bookworm", "debian", "pgha-node:bookworm", "library/debian:12.5-slim",
        "registry.example.com:5000/team/pgha-node:v1", "localhost/pgha:x", "localhost:5000/a_b__c/d-e:T.1",
        "ghcr.io/o/r@sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "debian:bookworm@sha256:0123456789abcdef0123456789abcdef"}) {
    EXPECT_TRUE(valid_image_reference(ok)) << ok;
  }
  for (const char* bad : {"", "Debian:bookworm", "Team/pgha", "debian bookworm", "debian;rm", "pgha/",
                          "/pgha", "pgha-node:book:worm", "debian:bookworm\nRUN id", "--privileged",
                          "debian:-tag", "debian@sha256:xyz", "a//b"}) {
    EXPECT_FALSE(valid_image_reference(bad)) << bad;
  }
}

}  // namespace
}  // namespace pgha
