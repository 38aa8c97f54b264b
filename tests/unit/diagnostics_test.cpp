#include "core/diagnostics.hpp"

#include <gtest/gtest.h>

namespace pgha {
namespace {

Diagnostic at(int line, int col, std::string msg, Severity s = Severity::error) {
  return Diagnostic{s, "inv.yml", Mark{line, col}, std::move(msg)};
}

TEST(FormatDiagnostic, QuotesTheLineAndPointsAtTheColumn) {
  std::string src = "nodes:\n  - nmae: pg1\n";
  EXPECT_EQ(format_diagnostic(at(2, 5, "unknown key 'nmae' in nodes[0]; did you mean 'name'?"), src),
            "inv.yml:2:5: error: unknown key 'nmae' in nodes[0]; did you mean 'name'?\n"
            "  - nmae: pg1\n"
            "    ^\n");
}

TEST(FormatDiagnostic, WarningsSayWarning) {
  EXPECT_EQ(format_diagnostic(at(1, 1, "hm", Severity::warning), "a: 1\n"),
            "inv.yml:1:1: warning: hm\na: 1\n^\n");
}

TEST(FormatDiagnostic, WithoutAPlaceThereIsNoQuote) {
  EXPECT_EQ(format_diagnostic(at(0, 0, "the inventory is empty"), "x"),
            "inv.yml: error: the inventory is empty\n");
}

// Terminal control bytes in a message or a quoted line are shown escaped; the caret still points at
// the same character.
TEST(FormatDiagnostic, ControlBytesAreEscapedAndTheCaretFollows) {
  std::string src = "network:\n  interface: \x1b[2Jeth0/x\n";
  EXPECT_EQ(format_diagnostic(at(2, 18, "network.interface '\x1b[2Jeth0/x\n' is bad"), src),
            "inv.yml:2:18: error: network.interface '\\x1b[2Jeth0/x\\n' is bad\n"
            "  interface: \\x1b[2Jeth0/x\n" +
                std::string(20, ' ') + "^\n");
  EXPECT_EQ(format_diagnostic(at(1, 1, std::string("a\0b", 3)), "x\n"), "inv.yml:1:1: error: a\\0b\nx\n^\n");
}

TEST(FormatDiagnostic, LineBeyondTheTextIsNotQuoted) {
  EXPECT_EQ(format_diagnostic(at(9, 1, "eof"), "a: 1\n"), "inv.yml:9:1: error: eof\n");
}

TEST(FormatDiagnostic, HidesLinesInsideTheSecretsBlock) {
  std::string src =
      "cluster:\n  name: x\nsecrets:\n  superuser_pasword: hunter2\n  admin_password:\n    hunter3\n";
  EXPECT_EQ(format_diagnostic(at(4, 3, "m"), src),
            "inv.yml:4:3: error: m\n<line hidden: may contain a secret>\n  ^\n");
  // A continuation line nested under a secret key is hidden too.
  EXPECT_EQ(format_diagnostic(at(6, 5, "m"), src),
            "inv.yml:6:5: error: m\n<line hidden: may contain a secret>\n    ^\n");
  EXPECT_EQ(format_diagnostic(at(2, 3, "m"), src), "inv.yml:2:3: error: m\n  name: x\n  ^\n");
}

TEST(FormatDiagnostic, HidesPasswordLinesAnywhere) {
  std::string src = "users:\n  - name: app\n    password: hunter2\n";
  EXPECT_EQ(format_diagnostic(at(3, 15, "m"), src),
            "inv.yml:3:15: error: m\n<line hidden: may contain a secret>\n"
            "              ^\n");
  EXPECT_EQ(format_diagnostic(at(2, 11, "m"), src), "inv.yml:2:11: error: m\n  - name: app\n          ^\n");
}

TEST(FormatDiagnostic, ShowsSecretLinesThatOnlyReferenceTheEnvironment) {
  std::string src = "secrets:\n  superuser_password: \"${PW}\"\n  admin_password: \"${PW:-hunter2}\"\n";
  EXPECT_EQ(format_diagnostic(at(2, 23, "m"), src),
            "inv.yml:2:23: error: m\n  superuser_password: \"${PW}\"\n                      ^\n");
  // A default value is literal text and may be a secret.
  EXPECT_EQ(format_diagnostic(at(3, 19, "m"), src),
            "inv.yml:3:19: error: m\n<line hidden: may contain a secret>\n                  ^\n");
}

// The parsed value's role decides, not the look of the line: a literal after the variable, a key
// misspelled within edit distance 2, and a value reached through an alias stay hidden.
TEST(FormatDiagnostic, HidesLiteralsNextToVariablesMisspelledKeysAndAnchoredSecrets) {
  std::string src =
      "secrets:\n  superuser_password: \"${PW}hunter2\"\n"
      "x-pw: &pw hunter3\n"
      "users:\n  - name: app\n    pasword: *pw\n    pw: hunter4\n    tokn: hunter5\n    name2: app\n";
  const std::string hidden = "<line hidden: may contain a secret>\n";
  for (int line : {2, 3, 6, 7, 8}) {
    std::string out = format_diagnostic(at(line, 1, "m"), src);
    EXPECT_NE(out.find(hidden), std::string::npos) << line << ": " << out;
    EXPECT_EQ(out.find("hunter"), std::string::npos) << out;
  }
  EXPECT_EQ(format_diagnostic(at(9, 5, "m"), src), "inv.yml:9:5: error: m\n    name2: app\n    ^\n");
}

// What only the parsed document shows: a mapping anchored under an innocent key and used as a whole
// under secrets: (its lines name no secret and sit under no secret key), an anchored sequence used by
// a password key, and a secret key spelled as a quoted flow-mapping key. The unrelated lines stay shown.
TEST(FormatDiagnostic, HidesWhatAnAliasCarriesIntoASecretPosition) {
  std::string src =
      "x-common: &c\n"                        // 1
      "  superuser: hunter2\n"                // 2
      "  other: hunter3\n"                    // 3
      "x-list: &l\n"                          // 4
      "  - hunter4\n"                         // 5
      "cluster: {name: demo}\n"               // 6
      "secrets: *c\n"                         // 7
      "users:\n"                              // 8
      "  - {name: app, \"pasword\": *l}\n"    // 9
      "  - {name: bob, note: \"hunter5\"}\n"  // 10
      "plain: value\n";                       // 11
  const std::string hidden = "<line hidden: may contain a secret>\n";
  const std::string all =
      format_diagnostics({at(2, 3, "m"), at(3, 3, "m"), at(5, 5, "m"), at(9, 5, "m")}, src);
  EXPECT_EQ(all.find("hunter"), std::string::npos) << all;
  for (int line : {2, 3, 5, 9}) {
    std::string out = format_diagnostic(at(line, 3, "m"), src);
    EXPECT_NE(out.find(hidden), std::string::npos) << line << ": " << out;
  }
  EXPECT_EQ(format_diagnostic(at(11, 1, "m"), src), "inv.yml:11:1: error: m\nplain: value\n^\n");
  EXPECT_EQ(format_diagnostic(at(6, 1, "m"), src), "inv.yml:6:1: error: m\ncluster: {name: demo}\n^\n");
}

// A text that does not load (a syntax error) is judged by the text rules alone, and a billion-laughs
// alias chain is walked once per node.
TEST(FormatDiagnostic, UnloadableTextAndAliasBombs) {
  std::string broken = "secrets:\n  admin_password: \"hunter2\n  x: [\n";
  EXPECT_EQ(format_diagnostic(at(2, 3, "m"), broken).find("hunter"), std::string::npos);
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c, ++prev)
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  bomb += "secrets: *k\nplain: 1\n";
  EXPECT_NE(format_diagnostic(at(1, 1, "m"), bomb).find("<line hidden"), std::string::npos);
  EXPECT_EQ(format_diagnostic(at(13, 1, "m"), bomb), "inv.yml:13:1: error: m\nplain: 1\n^\n");
}

TEST(FormatDiagnostics, SortsByLineThenColumn) {
  std::string src = "a: 1\nb: 2\n";
  std::string out = format_diagnostics({at(2, 4, "third"), at(1, 1, "first"), at(2, 1, "second")}, src);
  EXPECT_EQ(out,
            "inv.yml:1:1: error: first\na: 1\n^\n"
            "inv.yml:2:1: error: second\nb: 2\n^\n"
            "inv.yml:2:4: error: third\nb: 2\n   ^\n");
}

TEST(HasErrors, OnlyErrorsCount) {
  EXPECT_FALSE(has_errors({}));
  EXPECT_FALSE(has_errors({at(1, 1, "w", Severity::warning)}));
  EXPECT_TRUE(has_errors({at(1, 1, "w", Severity::warning), at(1, 1, "e")}));
}

TEST(DidYouMean, FindsNearMisses) {
  std::vector<std::string> keys = {"name", "address", "cpu", "memory_mb", "maximum_lag_on_failover"};
  EXPECT_EQ(did_you_mean("adress", keys), "address");
  EXPECT_EQ(did_you_mean("nmae", keys), "name");
  EXPECT_EQ(did_you_mean("memroy_mb", keys), "memory_mb");
  EXPECT_EQ(did_you_mean("maximum_lag_of_failovr", keys), "maximum_lag_on_failover");
  EXPECT_EQ(did_you_mean("ADDRESS", keys), "address");
}

TEST(DidYouMean, StaysQuietForFarOffWords) {
  std::vector<std::string> keys = {"name", "address", "cpu"};
  EXPECT_EQ(did_you_mean("failsafe", keys), "");
  EXPECT_EQ(did_you_mean("x", keys), "");
  EXPECT_EQ(did_you_mean("", keys), "");
  EXPECT_EQ(did_you_mean("name", keys), "");  // an exact match is not a suggestion
  EXPECT_EQ(did_you_mean(std::string(1000, 'a'), keys), "");
}

}  // namespace
}  // namespace pgha
