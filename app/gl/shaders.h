// Shaders built into the binary by cmake/embed_shaders.cmake, looked up by file name.
#pragma once

namespace mla::gl {

struct EmbeddedShader {
    const char* name;    // file name under shaders/, e.g. "rmsnorm.comp"
    const char* source;  // GLSL text
};

const EmbeddedShader* embedded_shaders();  // ends with {nullptr, nullptr}
const char* find_shader(const char* name); // nullptr if absent

}  // namespace mla::gl
