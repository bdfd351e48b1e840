// The emulated CUDA runtime (engine/cuda_emu/include/cuda_runtime_api.h): one "device" whose memory is the
// DeviceArena, synchronous copies and launches, streams and events as validated handles with host timestamps.
// Calls check their arguments more strictly than a GPU would need to (a copy must name the right direction, a device
// range must lie in one allocation), because on the host a wrong pointer would otherwise silently work.
#include <cuda_runtime_api.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "engine/cuda_emu/device_arena.h"
#include "engine/cuda_emu/emulator.h"

struct CUstream_st {
  unsigned flags = 0;
};
struct CUevent_st {
  unsigned flags = 0;
  bool recorded = false;
  std::chrono::steady_clock::time_point time;
};

namespace preimage::emu {
namespace {

struct ErrorState {
  cudaError_t last = cudaSuccess;
  cudaError_t detailed_code = cudaSuccess;  // the code `detail` describes
  std::string detail;
  std::string message;                      // storage for cudaGetErrorString's combined text
};
thread_local ErrorState t_error;

std::atomic<uint64_t> g_device_to_host_copies{0}, g_synchronizations{0};

std::set<cudaStream_t>& streams() {
  static auto* s = new std::set<cudaStream_t>();  // never destroyed: runtime calls may come during exit
  return *s;
}
std::set<cudaEvent_t>& events() {
  static auto* e = new std::set<cudaEvent_t>();
  return *e;
}
std::map<const void*, int>& kernel_shared_limits() {
  static auto* m = new std::map<const void*, int>();
  return *m;
}

std::string hex(const void* p) {
  std::ostringstream s;
  s << p;
  return s.str();
}

// Which of host/device each side of a copy is, checked against the allocation table.
cudaError_t check_copy(void* dst, const void* src, size_t count, cudaMemcpyKind kind, const char* call) {
  DeviceArena& arena = DeviceArena::instance();
  if (kind == cudaMemcpyDefault) {
    const bool d = arena.in_range(dst), s = arena.in_range(src);
    kind = d ? (s ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
             : (s ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  }
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDeviceToDevice)
    return record_error(cudaErrorInvalidMemcpyDirection, std::string(call) + ": unknown copy kind");
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  auto check = [&](const void* p, bool device, const char* side) -> cudaError_t {
    if (device && !arena.contains(p, count))
      return record_error(cudaErrorInvalidValue, std::string(call) + ": " + side + " " + hex(p) + " (+" +
                                                     std::to_string(count) +
                                                     " bytes) is not inside one live device allocation");
    if (!device && arena.in_range(p))
      return record_error(cudaErrorInvalidValue, std::string(call) + ": " + side + " " + hex(p) +
                                                     " is device memory but the copy kind says host");
    return cudaSuccess;
  };
  if (cudaError_t e = check(dst, dst_dev, "destination")) return e;
  return check(src, src_dev, "source");
}

}  // namespace

HostWaitCounts host_wait_counts() { return {g_device_to_host_copies.load(), g_synchronizations.load()}; }

std::recursive_mutex& emulator_mutex() {
  static auto* m = new std::recursive_mutex();
  return *m;
}

cudaError_t record_error(cudaError_t code, const std::string& detail) {
  t_error.last = code;
  t_error.detailed_code = code;
  t_error.detail = detail;
  return code;
}

bool valid_stream(cudaStream_t stream) {
  return stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread ||
         streams().count(stream) > 0;
}

int max_dynamic_shared(const void* kernel) {
  auto it = kernel_shared_limits().find(kernel);
  return it == kernel_shared_limits().end() ? kDefaultDynamicShared : it->second;
}

cudaError_t set_max_dynamic_shared(const void* kernel, int bytes) {
  std::lock_guard<std::recursive_mutex> lock(emulator_mutex());
  if (bytes < 0 || bytes > kMaxDynamicShared)
    return record_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: dynamic shared memory of " +
                                                   std::to_string(bytes) + " bytes exceeds the device's " +
                                                   std::to_string(kMaxDynamicShared));
  kernel_shared_limits()[kernel] = bytes;
  return cudaSuccess;
}

cudaError_t copy_symbol(void* symbol, const void* buffer, size_t count, size_t offset, cudaMemcpyKind kind,
                        bool to_symbol) {
  std::lock_guard<std::recursive_mutex> lock(emulator_mutex());
  const bool ok = kind == cudaMemcpyDefault || kind == cudaMemcpyDeviceToDevice ||
                  kind == (to_symbol ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost);
  if (!ok)
    return record_error(cudaErrorInvalidMemcpyDirection, "cudaMemcpyToSymbol/FromSymbol: wrong copy kind");
  DeviceAccess access;
  char* s = static_cast<char*>(symbol) + offset;
  if (to_symbol)
    std::memcpy(s, buffer, count);
  else
    std::memcpy(const_cast<void*>(buffer), s, count);
  return cudaSuccess;
}

}  // namespace preimage::emu

using preimage::emu::DeviceAccess;
using preimage::emu::DeviceArena;
using preimage::emu::emulator_mutex;
using preimage::emu::record_error;
using Lock = std::lock_guard<std::recursive_mutex>;

cudaError_t cudaGetLastError() {
  const cudaError_t e = preimage::emu::t_error.last;
  preimage::emu::t_error.last = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() { return preimage::emu::t_error.last; }

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidSymbol: return "cudaErrorInvalidSymbol";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorInvalidDeviceFunction: return "cudaErrorInvalidDeviceFunction";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
  }
  return "cudaErrorUnknown";
}

static const char* plain_error_string(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidSymbol: return "invalid device symbol";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorNotSupported: return "operation not supported";
  }
  return "unknown error";
}

const char* cudaGetErrorString(cudaError_t error) {
  auto& st = preimage::emu::t_error;
  if (error == cudaSuccess || error != st.detailed_code || st.detail.empty()) return plain_error_string(error);
  st.message = std::string(plain_error_string(error)) + "; CUDA emulator: " + st.detail;
  return st.message.c_str();
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return record_error(cudaErrorInvalidValue, "cudaGetDeviceCount: null count");
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return record_error(cudaErrorInvalidValue, "cudaGetDevice: null device");
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (device != 0)
    return record_error(cudaErrorInvalidDevice, "the emulator has one device (0), asked for " +
                                                    std::to_string(device));
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return record_error(cudaErrorInvalidValue, "cudaGetDeviceProperties: null prop");
  if (device != 0) return record_error(cudaErrorInvalidDevice, "the emulator has one device (0)");
  *prop = cudaDeviceProp{};
  std::strncpy(prop->name, "preimage CUDA emulator (host CPU)", sizeof(prop->name) - 1);
  prop->totalGlobalMem = DeviceArena::instance().capacity();
  prop->sharedMemPerBlock = preimage::emu::kDefaultDynamicShared;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 65536;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 1;
  prop->memoryBusWidth = 64;
  prop->l2CacheSize = 1 << 20;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->regsPerMultiprocessor = 65536;
  prop->sharedMemPerBlockOptin = preimage::emu::kMaxDynamicShared;
  prop->maxBlocksPerMultiProcessor = 32;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp p;
  if (cudaError_t e = cudaGetDeviceProperties(&p, device)) return e;
  if (!value) return record_error(cudaErrorInvalidValue, "cudaDeviceGetAttribute: null value");
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); break;
    case cudaDevAttrWarpSize: *value = p.warpSize; break;
    case cudaDevAttrClockRate: *value = 1000000; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrMemoryClockRate: *value = 1000000; break;
    case cudaDevAttrGlobalMemoryBusWidth: *value = p.memoryBusWidth; break;
    case cudaDevAttrL2CacheSize: *value = p.l2CacheSize; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); break;
    default: return record_error(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute not emulated");
  }
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() {
  ++preimage::emu::g_synchronizations;
  return cudaSuccess;
}
cudaError_t cudaDeviceReset() { return cudaSuccess; }

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  Lock lock(emulator_mutex());
  DeviceArena& a = DeviceArena::instance();
  if (free_bytes) *free_bytes = a.capacity() - a.in_use();
  if (total_bytes) *total_bytes = a.capacity();
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, size_t size) {
  Lock lock(emulator_mutex());
  if (!ptr) return record_error(cudaErrorInvalidValue, "cudaMalloc: null result pointer");
  *ptr = nullptr;
  if (size == 0) return cudaSuccess;
  void* p = DeviceArena::instance().allocate(size);
  if (!p)
    return record_error(cudaErrorMemoryAllocation,
                        "cudaMalloc of " + std::to_string(size) + " bytes: the emulated device holds " +
                            std::to_string(DeviceArena::instance().capacity() >> 20) +
                            " MiB (PREIMAGE_EMU_DEVICE_GIB), " +
                            std::to_string(DeviceArena::instance().in_use() >> 20) + " MiB in use");
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  Lock lock(emulator_mutex());
  if (!ptr) return cudaSuccess;
  if (!DeviceArena::instance().release(ptr))
    return record_error(cudaErrorInvalidValue, "cudaFree(" + preimage::emu::hex(ptr) +
                                                   "): not the start of a live device allocation (double free, "
                                                   "or a host pointer)");
  return cudaSuccess;
}

cudaError_t cudaMallocAsync(void** ptr, size_t size, cudaStream_t stream) {
  if (!preimage::emu::valid_stream(stream))
    return record_error(cudaErrorInvalidResourceHandle, "cudaMallocAsync: unknown stream");
  return cudaMalloc(ptr, size);
}

cudaError_t cudaFreeAsync(void* ptr, cudaStream_t stream) {
  if (!preimage::emu::valid_stream(stream))
    return record_error(cudaErrorInvalidResourceHandle, "cudaFreeAsync: unknown stream");
  return cudaFree(ptr);
}

cudaError_t cudaMallocHost(void** ptr, size_t size) {
  if (!ptr) return record_error(cudaErrorInvalidValue, "cudaMallocHost: null result pointer");
  *ptr = std::aligned_alloc(256, (size + 255) / 256 * 256);
  if (size && !*ptr) return record_error(cudaErrorMemoryAllocation, "cudaMallocHost: out of host memory");
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned int) { return cudaMallocHost(ptr, size); }

cudaError_t cudaFreeHost(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  Lock lock(emulator_mutex());
  if (count == 0) return cudaSuccess;
  if (cudaError_t e = preimage::emu::check_copy(dst, src, count, kind, "cudaMemcpy")) return e;
  const preimage::emu::DeviceArena& arena = preimage::emu::DeviceArena::instance();
  if (kind == cudaMemcpyDeviceToHost || (kind == cudaMemcpyDefault && arena.in_range(src) && !arena.in_range(dst)))
    ++preimage::emu::g_device_to_host_copies;
  DeviceAccess access;
  std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream) {
  if (!preimage::emu::valid_stream(stream))
    return record_error(cudaErrorInvalidResourceHandle, "cudaMemcpyAsync: unknown stream");
  return cudaMemcpy(dst, src, count, kind);
}

cudaError_t cudaMemset(void* ptr, int value, size_t count) {
  Lock lock(emulator_mutex());
  if (count == 0) return cudaSuccess;
  if (!DeviceArena::instance().contains(ptr, count))
    return record_error(cudaErrorInvalidValue, "cudaMemset: " + preimage::emu::hex(ptr) + " (+" +
                                                   std::to_string(count) +
                                                   " bytes) is not inside one live device allocation");
  DeviceAccess access;
  std::memset(ptr, value, count);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t stream) {
  if (!preimage::emu::valid_stream(stream))
    return record_error(cudaErrorInvalidResourceHandle, "cudaMemsetAsync: unknown stream");
  return cudaMemset(ptr, value, count);
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  Lock lock(emulator_mutex());
  if (!stream) return record_error(cudaErrorInvalidValue, "cudaStreamCreate: null result pointer");
  *stream = new CUstream_st{flags};
  preimage::emu::streams().insert(*stream);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  Lock lock(emulator_mutex());
  if (!preimage::emu::streams().erase(stream))
    return record_error(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: not a live stream");
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  Lock lock(emulator_mutex());
  if (!preimage::emu::valid_stream(stream))
    return record_error(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: not a live stream");
  ++preimage::emu::g_synchronizations;
  return cudaSuccess;
}

cudaError_t cudaStreamQuery(cudaStream_t stream) { return cudaStreamSynchronize(stream); }

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int) {
  Lock lock(emulator_mutex());
  if (!preimage::emu::valid_stream(stream) || !preimage::emu::events().count(event))
    return record_error(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: not a live stream or event");
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  Lock lock(emulator_mutex());
  if (!event) return record_error(cudaErrorInvalidValue, "cudaEventCreate: null result pointer");
  *event = new CUevent_st{flags, false, {}};
  preimage::emu::events().insert(*event);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  Lock lock(emulator_mutex());
  if (!preimage::emu::events().count(event) || !preimage::emu::valid_stream(stream))
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventRecord: not a live event or stream");
  event->recorded = true;
  event->time = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  Lock lock(emulator_mutex());
  if (!preimage::emu::events().count(event))
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: not a live event");
  ++preimage::emu::g_synchronizations;
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) { return cudaEventSynchronize(event); }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  Lock lock(emulator_mutex());
  auto& ev = preimage::emu::events();
  if (!ms) return record_error(cudaErrorInvalidValue, "cudaEventElapsedTime: null result pointer");
  if (!ev.count(start) || !ev.count(end))
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: not a live event");
  if ((start->flags | end->flags) & cudaEventDisableTiming)
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: event created without timing");
  if (!start->recorded || !end->recorded)
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: event never recorded");
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  Lock lock(emulator_mutex());
  if (!preimage::emu::events().erase(event))
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventDestroy: not a live event");
  delete event;
  return cudaSuccess;
}
