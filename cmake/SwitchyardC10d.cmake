# Which c10d backends (torch.distributed's C++ core) the LibTorch found provides. Their headers
# declare ProcessGroupGloo / ProcessGroupNCCL only under USE_C10D_GLOO / USE_C10D_NCCL, which
# LibTorch's CMake package does not define for us, and a LibTorch may ship the headers without
# the code (Debian's ships ProcessGroupNCCL.hpp but is CPU-only): so each backend counts as
# present only when a program using it compiles and links here. Results are cached.
#   SY_HAVE_C10D_GLOO  Debian's 1.13 (needs libgloo-dev for the headers) and PyTorch's builds
#   SY_HAVE_C10D_NCCL  CUDA builds of PyTorch (2.x), never Debian's
include(CheckCXXSourceCompiles)

function(switchyard_check_c10d backend define code result)
  set(CMAKE_REQUIRED_INCLUDES ${TORCH_INCLUDE_DIRS})
  set(CMAKE_REQUIRED_LIBRARIES ${TORCH_LIBRARIES})
  set(CMAKE_REQUIRED_FLAGS "${TORCH_CXX_FLAGS} -std=c++17")
  set(CMAKE_REQUIRED_DEFINITIONS -D${define}=1)
  set(CMAKE_REQUIRED_QUIET ON)
  check_cxx_source_compiles("${code}" ${result})
  if(${result})
    message(STATUS "c10d ${backend}: available")
  else()
    message(STATUS "c10d ${backend}: not in this LibTorch")
  endif()
endfunction()

switchyard_check_c10d(Gloo USE_C10D_GLOO "
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
int main() { auto o = c10d::ProcessGroupGloo::Options::create(); return o ? 0 : 1; }" SY_HAVE_C10D_GLOO)

switchyard_check_c10d(NCCL USE_C10D_NCCL "
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
int main() { auto o = c10d::ProcessGroupNCCL::Options::create(); return o ? 0 : 1; }" SY_HAVE_C10D_NCCL)
