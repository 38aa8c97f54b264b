// GitHub Actions workflow commands that pgha writes itself, for the secrets it creates: each is
// masked (::add-mask::) the moment it exists, before anything could print it. Escaping follows the
// toolkit (actions/toolkit, packages/core/src/command.ts): a command's value escapes % CR LF, a
// property also : and ,.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace pgha {

// % -> %25, \r -> %0D, \n -> %0A.
std::string escape_command_value(std::string_view s);
// escape_command_value(), and : -> %3A, , -> %2C.
std::string escape_command_property(std::string_view s);

// The ::add-mask:: lines that hide secret in a job's log, one per non-blank line of it (the runner
// masks within a line, so a PEM key registered whole leaves its lines visible), then the whole value
// when it spans lines. Each ends in '\n'. "" for an empty secret.
std::string add_mask_commands(std::string_view secret);

// Where a secret that pgha has just created goes to be masked. The default sink writes
// add_mask_commands() to stderr at once when GITHUB_ACTIONS is "true" (the runner reads workflow
// commands from a step's output), and does nothing elsewhere.
using SecretSink = std::function<void(const std::string& secret)>;
void announce_new_secret(const std::string& secret);
// Replaces the sink (tests); returns the one it replaced. An empty sink restores the default.
SecretSink set_secret_sink(SecretSink sink);

}  // namespace pgha
