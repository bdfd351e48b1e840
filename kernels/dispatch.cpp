#include "kernels/dispatch.h"

#include <atomic>

namespace preimage::kernels {
namespace {
std::atomic<CpuPath> g_cpu_path{CpuPath::fast};
}
void set_cpu_path(CpuPath path) { g_cpu_path = path; }
CpuPath cpu_path() { return g_cpu_path; }
}  // namespace preimage::kernels
