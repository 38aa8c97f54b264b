#include "core/gha.hpp"

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace pgha {
namespace {

std::mutex& sink_mutex() {
  static std::mutex mu;
  return mu;
}
SecretSink& custom_sink() {
  static SecretSink sink;
  return sink;
}

void default_sink(const std::string& secret) {
  const char* on = std::getenv("GITHUB_ACTIONS");
  if (!on || std::string_view(on) != "true") return;
  const std::string lines = add_mask_commands(secret);
  // One write, flushed: the masks reach the log before any later line of pgha's.
  std::fwrite(lines.data(), 1, lines.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

std::string escape_command_value(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_command_property(std::string_view s) {
  std::string out;
  for (char c : escape_command_value(s)) {
    if (c == ':') {
      out += "%3A";
    } else if (c == ',') {
      out += "%2C";
    } else {
      out += c;
    }
  }
  return out;
}

std::string add_mask_commands(std::string_view secret) {
  std::string out;
  bool multi_line = false;
  size_t start = 0;
  while (start <= secret.size()) {
    size_t end = secret.find('\n', start);
    if (end == std::string_view::npos)
      end = secret.size();
    else
      multi_line = true;
    std::string_view line = secret.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos)
      out += "::add-mask::" + escape_command_value(line) + "\n";
    start = end + 1;
  }
  if (multi_line && !out.empty()) out += "::add-mask::" + escape_command_value(secret) + "\n";
  return out;
}

void announce_new_secret(const std::string& secret) {
  SecretSink sink;
  {
    std::lock_guard<std::mutex> lock(sink_mutex());
    sink = custom_sink();
  }
  if (sink) {
    sink(secret);
  } else {
    default_sink(secret);
  }
}

SecretSink set_secret_sink(SecretSink sink) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  SecretSink old = std::move(custom_sink());
  custom_sink() = std::move(sink);
  return old;
}

}  // namespace pgha
