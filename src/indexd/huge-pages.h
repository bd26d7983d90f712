// Transparent huge pages for indexd's heap.
//
// Lookups of random names over hundreds of MiB of index miss the TLB on
// almost every access. With glibc's malloc on transparent huge pages they
// run about 18% faster (make bench-index: 1,000,000 files, 50 clients, 16
// in flight: 658k -> 778k lookups/s). glibc takes that setting only from
// the environment at start-up, so indexd sets it and starts itself again,
// once, keeping its PID.
#pragma once

namespace indexd {

// Returns only when no restart was needed or possible (already set, the
// user set GLIBC_TUNABLES, running under valgrind, exec failed).
void restart_with_huge_pages(char** argv);

} // namespace indexd
