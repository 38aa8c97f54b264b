// Runs one task per item on its own thread and waits for all; never stops the others when one fails.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace pgha {

// Every failure is kept; the returned Error is the first one, with the others' descriptions appended.
template <class T>
Status for_each_parallel(std::vector<T>& items, const std::function<Status(T&)>& task) {
  std::vector<Status> results(items.size());
  std::vector<std::thread> threads;
  threads.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = task(items[i]); });
  }
  for (auto& t : threads) t.join();
  Error first;
  int failed = 0;
  for (auto& r : results) {
    if (r.ok()) continue;
    if (failed++ == 0) {
      first = r.error();
    } else {
      first.message += "\n  and " + r.error().describe();
    }
  }
  if (failed) return first;
  return {};
}

}  // namespace pgha
