// jemalloc options compiled into corral-server. jemalloc reads this symbol once, when it
// initialises; MALLOC_CONF in the environment is applied after it, so an operator can still
// override any of them (e.g. MALLOC_CONF=thp:default).
//
// thp:always — jemalloc advises transparent huge pages (MADV_HUGEPAGE) on the memory it maps.
// A data tree is hundreds of MB of small blocks (1M znodes of 100 bytes: ~240 MB). On 4 KiB
// pages, faulting that memory in was 60% of the thread that loads a snapshot at restart and
// most of the time of a large load; on 2 MiB pages it is 512 times fewer faults. Measured with
// 1M znodes on a 2-core VM: restart 1.15-1.3 s -> 0.6-0.7 s, load 60-110k -> 115-125k
// creates/s, RSS growth per znode unchanged (242-250 B), empty RSS 10 -> ~20 MB (each arena's
// first extent becomes a huge page). Where THP is "never", this does nothing.
#ifdef CORRAL_WITH_JEMALLOC
extern "C" {
// Exported (corral-server links with ENABLE_EXPORTS) so it overrides jemalloc's weak default.
__attribute__((used)) const char* malloc_conf = "thp:always";
}
#endif
