// Backends by name, for the CLI's --backend and the window's backend switch.
//   "cpu": mla::CpuBackend (core/model/cpu_backend.h), always available.
//   "gpu": mla::gl::GlBackend (app/gl/gl_backend.h), OpenGL 4.3 compute shaders; needs a
//          display. It runs in the GL context current on the calling thread (the window's)
//          or, when there is none, in a hidden one made once (gl::ensure_context).
#pragma once

#include <memory>
#include <string>

#include "model/backend.h"

namespace mla {

// True when the GPU backend can run here; otherwise *reason says why, in a sentence
// ("no X display (DISPLAY is not set): ..."). Makes the hidden context as a side effect.
bool gpu_available(std::string* reason = nullptr);

// "cpu" or "gpu". Throws mla::InputError for another name, or for "gpu" when it cannot run
// here: "gpu backend needs OpenGL 4.3 with compute shaders; <why>: use --backend cpu".
std::unique_ptr<Backend> make_backend(const std::string& name);

}  // namespace mla
