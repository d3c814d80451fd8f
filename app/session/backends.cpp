#include "session/backends.h"

#include <stdexcept>

#include "gl/gl_backend.h"
#include "gl/gl_context.h"
#include "model/config.h"
#include "model/cpu_backend.h"

namespace mla {

bool gpu_available(std::string* reason) { return gl::ensure_context(reason); }

std::unique_ptr<Backend> make_backend(const std::string& name) {
    if (name == "cpu") return std::make_unique<CpuBackend>();
    if (name == "gpu") {
        std::string why;
        if (!gpu_available(&why))
            throw InputError("gpu backend needs OpenGL 4.3 with compute shaders; " + why + ": use --backend cpu");
        try {
            return std::make_unique<gl::GlBackend>();
        } catch (const InputError&) {
            throw;
        } catch (const std::runtime_error& e) {  // a shader this driver will not compile
            throw InputError("gpu backend could not start on " + gl::describe(gl::context_info()) + ": " + e.what() +
                             "\nuse --backend cpu");
        }
    }
    throw InputError("unknown backend '" + name + "': use cpu or gpu");
}

}  // namespace mla
