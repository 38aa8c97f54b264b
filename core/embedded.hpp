// Files under templates/, compiled into the binary (see cmake/embed_templates.cmake).
#pragma once

#include <map>
#include <string>

namespace pgha {

// Keyed by the path relative to templates/, e.g. "etcd/etcd.conf.mustache".
const std::map<std::string, std::string>& embedded_templates();

// Files under data/ (reference tables), keyed likewise, e.g. "postgresql/pg15_settings.tsv".
const std::map<std::string, std::string>& embedded_data();

}  // namespace pgha
