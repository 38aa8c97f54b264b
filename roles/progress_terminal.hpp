// The terminal view of Progress (make_progress with ProgressStyle::terminal). Frame layout:
//
//   [+] etcd · 5 phases done                                   23.4s    <- header
//    ⠹ pg1  etcd        starting etcd                           2.1s    <- one line per node
//    ✔ pg2  pgbackrest  ready                                  41.0s
//    ✘ pg3  haproxy:start                                      31.2s
//        exit 1: Job for haproxy.service failed ...                    <- the failure's last lines
//
// A redraw moves the cursor up over the previous frame ("\r\033[<n>A"), rewrites each line after
// clearing it ("\033[2K"), and clears whatever the previous frame left below ("\033[J"). Lines are
// cut to the display width so that none wraps (a wrapped line would break the count). Log lines
// (warnings, info, verbose node messages) are written where the frame was, and the frame is drawn
// again below them. The view redraws only while something runs (a phase, or a node not yet done), so
// output written by others after the last phase ends is never overwritten.
#pragma once

#include <memory>
#include <ostream>

#include "roles/progress.hpp"

namespace pgha {

std::unique_ptr<Progress> make_terminal_progress(std::ostream& out, ProgressOptions options);

}  // namespace pgha
