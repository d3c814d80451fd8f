// [SECTION] shaders: compile_compute
// [SECTION] setup: constructor, programs, uniforms, binding, dispatch
// [SECTION] memory: create, resize, release, write, read, copy, copy_rows
// [SECTION] operations: one dispatch each, in backend.h's order
#include "gl/gl_backend.h"

#include <epoxy/gl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "base/check.h"
#include "gl/gl_context.h"
#include "gl/shaders.h"

namespace mla::gl {

// ---- [SECTION] shaders -----------------------------------------------------------------

namespace {

std::string trim_log(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
    return s;
}

// Every line of the compiler's log, prefixed with the file: "shaders/x.comp: 0:12(3): error: ..."
std::string with_file(const std::string& file, const std::string& log) {
    std::string out;
    size_t start = 0;
    while (start <= log.size()) {
        size_t end = log.find('\n', start);
        if (end == std::string::npos) end = log.size();
        if (end > start) out += (out.empty() ? "" : "\n") + file + ": " + log.substr(start, end - start);
        start = end + 1;
    }
    return out;
}

}  // namespace

unsigned compile_compute(const std::string& file, const char* source) {
    const std::string path = "shaders/" + file;
    if (!source) throw std::runtime_error(path + ": not embedded in this binary (re-run cmake to embed shaders/)");
    GLuint sh = glCreateShader(GL_COMPUTE_SHADER);
    glShaderSource(sh, 1, &source, nullptr);
    glCompileShader(sh);
    GLint ok = 0;
    glGetShaderiv(sh, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        GLint len = 0;
        glGetShaderiv(sh, GL_INFO_LOG_LENGTH, &len);
        std::string text(static_cast<size_t>(std::max(len, 1)), '\0');
        glGetShaderInfoLog(sh, len, nullptr, text.data());
        glDeleteShader(sh);
        throw std::runtime_error("compute shader failed to compile:\n" + with_file(path, trim_log(text)));
    }
    GLuint prog = glCreateProgram();
    glAttachShader(prog, sh);
    glLinkProgram(prog);
    glDetachShader(prog, sh);
    glDeleteShader(sh);
    glGetProgramiv(prog, GL_LINK_STATUS, &ok);
    if (!ok) {
        GLint len = 0;
        glGetProgramiv(prog, GL_INFO_LOG_LENGTH, &len);
        std::string text(static_cast<size_t>(std::max(len, 1)), '\0');
        glGetProgramInfoLog(prog, len, nullptr, text.data());
        glDeleteProgram(prog);
        throw std::runtime_error("compute shader failed to link:\n" + with_file(path, trim_log(text)));
    }
    return prog;
}

// ---- [SECTION] setup -------------------------------------------------------------------

namespace {

const char* const kFiles[] = {"copy.comp",        "copy_rows.comp",   "embed.comp",       "matvec.comp",
                              "matmul.comp",      "rmsnorm.comp",     "rope.comp",        "attn_scores.comp",
                              "softmax.comp",     "attn_values.comp", "absorb_query.comp", "latent_output.comp",
                              "swiglu.comp",      "add.comp",         "store_rows.comp",  "load_rows.comp",
                              "attend.comp",      "attend_merge.comp"};

// GLSL has no #include: a line `#include "x.glsl"` is replaced by the embedded file x.glsl.
std::string with_includes(const std::string& file, const char* source) {
    std::string s = source;
    const std::string key = "#include \"";
    for (size_t at = s.find(key); at != std::string::npos;) {
        const size_t end = s.find('"', at + key.size());
        const size_t eol = s.find('\n', at);
        if (end == std::string::npos) throw std::runtime_error("shaders/" + file + ": unterminated #include");
        const std::string name = s.substr(at + key.size(), end - at - key.size());
        const char* inc = find_shader(name.c_str());
        if (!inc) throw std::runtime_error("shaders/" + file + ": #include \"" + name + "\" is not embedded");
        s.replace(at, (eol == std::string::npos ? s.size() : eol) - at, inc);
        at = s.find(key, at + std::strlen(inc));  // one level: included files include nothing
    }
    return s;
}

constexpr int64_t kMaxGroups = 65535;  // the minimum GL guarantees per dimension
constexpr int64_t kUintMax = std::numeric_limits<uint32_t>::max();

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

GlBackend::GlBackend() {
    static_assert(sizeof(kFiles) / sizeof(kFiles[0]) == kOpCount, "one shader per operation");
    std::string why;
    if (!ensure_context(&why))
        throw InputError("gpu backend needs OpenGL 4.3 with compute shaders; " + why + ": use --backend cpu");
    device_ = describe(context_info());

    GLint align = 0;
    glGetIntegerv(GL_SHADER_STORAGE_BUFFER_OFFSET_ALIGNMENT, &align);
    align_ = std::max<int64_t>(1, align / static_cast<int64_t>(sizeof(float)));
    MLA_CHECK(align <= 4 || align % 4 == 0);
    GLint64 max_block = 0;
    glGetInteger64v(GL_MAX_SHADER_STORAGE_BLOCK_SIZE, &max_block);
    max_block_ = std::min<int64_t>(max_block / static_cast<int64_t>(sizeof(float)), kUintMax);

    for (int i = 0; i < kOpCount; ++i) {
        programs_[i].file = kFiles[i];
        try {
            const char* src = find_shader(kFiles[i]);
            programs_[i].name = src ? compile_compute(kFiles[i], with_includes(kFiles[i], src).c_str())
                                    : compile_compute(kFiles[i], nullptr);
        } catch (...) {
            for (int j = 0; j < i; ++j) glDeleteProgram(programs_[j].name);
            throw;
        }
    }
    check_errors("GlBackend setup");
    log("gl: backend ready on " + device_ + " (storage alignment " + std::to_string(align) +
        " bytes, largest binding " + std::to_string(max_block) + " bytes)");
}

GlBackend::~GlBackend() {
    for (auto& e : bufs_)
        if (e.name) glDeleteBuffers(1, &e.name);
    for (auto& [key, t] : rope_tables_)
        if (t.name) glDeleteBuffers(1, &t.name);
    if (scratch_) glDeleteBuffers(1, &scratch_);
    if (partials_) glDeleteBuffers(1, &partials_);
    for (auto& p : programs_)
        if (p.name) glDeleteProgram(p.name);
}

std::string GlBackend::device() const { return device_; }

int64_t GlBackend::live_buffers() const {
    return std::count_if(bufs_.begin(), bufs_.end(), [](const Entry& e) { return e.name != 0; });
}

GlBackend::Program& GlBackend::use(Op op) {
    Program& p = programs_[op];
    glUseProgram(p.name);
    return p;
}

void GlBackend::uniform(Op op, const char* name, int64_t value) {
    MLA_CHECK(value >= 0 && value <= kUintMax);
    Program& p = programs_[op];
    auto it = p.uniforms.find(name);
    if (it == p.uniforms.end()) it = p.uniforms.emplace(name, glGetUniformLocation(p.name, name)).first;
    if (it->second < 0) throw std::logic_error(std::string("shaders/") + p.file + ": no uniform '" + name + "'");
    glUniform1ui(it->second, static_cast<GLuint>(value));
}

void GlBackend::uniform_f(Op op, const char* name, float value) {
    Program& p = programs_[op];
    auto it = p.uniforms.find(name);
    if (it == p.uniforms.end()) it = p.uniforms.emplace(name, glGetUniformLocation(p.name, name)).first;
    if (it->second < 0) throw std::logic_error(std::string("shaders/") + p.file + ": no uniform '" + name + "'");
    glUniform1f(it->second, value);
}

int64_t GlBackend::bind_name(int slot, unsigned buffer, int64_t off, int64_t n) {
    const int64_t start = off - off % align_;
    const int64_t inner = off - start;
    const int64_t count = std::max<int64_t>(inner + n, 1);
    if (count > max_block_)
        throw InputError("gpu backend: an operation reads " + std::to_string(count) +
                         " floats through one storage buffer, above this GPU's limit of " +
                         std::to_string(max_block_) + " (GL_MAX_SHADER_STORAGE_BLOCK_SIZE): use --backend cpu");
    glBindBufferRange(GL_SHADER_STORAGE_BUFFER, slot, buffer, static_cast<GLintptr>(start * 4),
                      static_cast<GLsizeiptr>(count * 4));
    return inner;
}

int64_t GlBackend::bind_typed(int slot, View v, CacheDtype d, int64_t n) {
    const int64_t bytes = cache_dtype_bytes(d), per = 4 / bytes;
    const Entry& e = entry(v.buf);
    MLA_CHECK(v.off >= 0 && n >= 0 && (v.off + n) * bytes <= e.size * 4);
    const int64_t first_word = v.off / per, end_word = (v.off + n + per - 1) / per;
    const int64_t inner = bind_name(slot, e.name, first_word, end_word - first_word);
    return inner * per + v.off % per;
}

int64_t GlBackend::bind(int slot, View v, int64_t n) {
    check_view(v, n);
    return bind_name(slot, entry(v.buf).name, v.off, n);
}

void GlBackend::dispatch(int64_t groups_x, int64_t groups_y) {
    if (groups_x <= 0 || groups_y <= 0) return;
    MLA_CHECK(groups_x <= kMaxGroups && groups_y <= kMaxGroups);
    glDispatchCompute(static_cast<GLuint>(groups_x), static_cast<GLuint>(groups_y), 1);
    glMemoryBarrier(GL_SHADER_STORAGE_BARRIER_BIT);
    shader_writes_pending_ = true;
    ++dispatches_;
}

void GlBackend::dispatch_linear(int64_t groups) {
    if (groups <= 0) return;
    const int64_t x = std::min(groups, kMaxGroups);
    dispatch(x, ceil_div(groups, x));
}

void GlBackend::barrier_for_buffer_api() {
    if (!shader_writes_pending_) return;
    glMemoryBarrier(GL_BUFFER_UPDATE_BARRIER_BIT);
    shader_writes_pending_ = false;
}

const GlBackend::Entry& GlBackend::entry(const Buf& b) const {
    MLA_CHECK(b.id >= 0 && b.id < static_cast<int>(bufs_.size()) && bufs_[b.id].name != 0);
    return bufs_[b.id];
}

void GlBackend::check_view(View v, int64_t n) const {
    const Entry& e = entry(v.buf);
    MLA_CHECK(v.off >= 0 && n >= 0 && v.off + n <= e.size);
}

// ---- [SECTION] memory ------------------------------------------------------------------

unsigned GlBackend::new_buffer(int64_t n, const float* init, bool zero) {
    GLuint name = 0;
    glGenBuffers(1, &name);
    glBindBuffer(GL_COPY_WRITE_BUFFER, name);
    const int64_t bytes = std::max<int64_t>(n, 1) * static_cast<int64_t>(sizeof(float));
    glBufferData(GL_COPY_WRITE_BUFFER, static_cast<GLsizeiptr>(bytes), nullptr, init ? GL_STATIC_DRAW : GL_DYNAMIC_COPY);
    if (init && n > 0) glBufferSubData(GL_COPY_WRITE_BUFFER, 0, n * 4, init);
    else if (zero) glClearBufferData(GL_COPY_WRITE_BUFFER, GL_R32F, GL_RED, GL_FLOAT, nullptr);
    glBindBuffer(GL_COPY_WRITE_BUFFER, 0);
    if (check_errors("glBufferData") > 0)
        throw std::runtime_error("gpu backend: could not allocate a buffer of " + std::to_string(n) + " floats");
    return name;
}

Buf GlBackend::create(int64_t n, const float* init) {
    MLA_CHECK(n >= 0);
    int id;
    if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
    } else {
        id = static_cast<int>(bufs_.size());
        bufs_.emplace_back();
    }
    bufs_[id].name = new_buffer(n, init, true);
    bufs_[id].size = n;
    return Buf{id, n};
}

void GlBackend::resize(Buf& b, int64_t n) {
    MLA_CHECK(n >= 0);
    entry(b);  // checks the handle
    Entry& e = bufs_[b.id];
    if (n == e.size) {
        b.size = n;
        return;
    }
    const unsigned fresh = new_buffer(n, nullptr, true);
    const int64_t keep = std::min(e.size, n);
    if (keep > 0) {
        barrier_for_buffer_api();
        glBindBuffer(GL_COPY_READ_BUFFER, e.name);
        glBindBuffer(GL_COPY_WRITE_BUFFER, fresh);
        glCopyBufferSubData(GL_COPY_READ_BUFFER, GL_COPY_WRITE_BUFFER, 0, 0, keep * 4);
        glBindBuffer(GL_COPY_READ_BUFFER, 0);
        glBindBuffer(GL_COPY_WRITE_BUFFER, 0);
    }
    glDeleteBuffers(1, &e.name);
    e.name = fresh;
    e.size = n;
    b.size = n;
}

void GlBackend::release(Buf& b) {
    if (b.id < 0) return;
    entry(b);  // checks the handle
    Entry& e = bufs_[b.id];
    glDeleteBuffers(1, &e.name);
    e = Entry{};
    free_.push_back(b.id);
    b = Buf{};
}

void GlBackend::write(View dst, const float* src, int64_t n) {
    check_view(dst, n);
    if (n == 0) return;
    barrier_for_buffer_api();
    glBindBuffer(GL_COPY_WRITE_BUFFER, entry(dst.buf).name);
    glBufferSubData(GL_COPY_WRITE_BUFFER, static_cast<GLintptr>(dst.off * 4), static_cast<GLsizeiptr>(n * 4), src);
    glBindBuffer(GL_COPY_WRITE_BUFFER, 0);
}

void GlBackend::read(View src, float* dst, int64_t n) {
    check_view(src, n);
    if (n == 0) return;
    barrier_for_buffer_api();
    glBindBuffer(GL_COPY_READ_BUFFER, entry(src.buf).name);
    glGetBufferSubData(GL_COPY_READ_BUFFER, static_cast<GLintptr>(src.off * 4), static_cast<GLsizeiptr>(n * 4), dst);
    glBindBuffer(GL_COPY_READ_BUFFER, 0);
    ++readbacks_;
}

void GlBackend::finish() {
    barrier_for_buffer_api();
    glFinish();
}

unsigned GlBackend::scratch(int64_t n) {
    if (n > scratch_size_) {
        if (scratch_) glDeleteBuffers(1, &scratch_);
        scratch_size_ = std::max(n, 2 * scratch_size_);
        scratch_ = new_buffer(scratch_size_, nullptr, false);
    }
    return scratch_;
}

unsigned GlBackend::partials(int64_t n) {
    if (n > partials_size_) {
        if (partials_) glDeleteBuffers(1, &partials_);  // GL keeps it alive for dispatches already queued
        partials_size_ = std::max(n, 2 * partials_size_);
        partials_ = new_buffer(partials_size_, nullptr, false);
    }
    return partials_;
}

// Copies elements [off, off + n) of `buffer` into the scratch buffer (for overlapping copies).
namespace {
void stage(unsigned from, int64_t off, unsigned to, int64_t n) {
    glBindBuffer(GL_COPY_READ_BUFFER, from);
    glBindBuffer(GL_COPY_WRITE_BUFFER, to);
    glCopyBufferSubData(GL_COPY_READ_BUFFER, GL_COPY_WRITE_BUFFER, static_cast<GLintptr>(off * 4), 0,
                        static_cast<GLsizeiptr>(n * 4));
    glBindBuffer(GL_COPY_READ_BUFFER, 0);
    glBindBuffer(GL_COPY_WRITE_BUFFER, 0);
}
bool overlap(View a, int64_t na, View b, int64_t nb) {
    return a.buf.id == b.buf.id && a.off < b.off + nb && b.off < a.off + na;
}
}  // namespace

// dst[i] = src[i]; overlapping views of one buffer behave like memmove (src is staged first).
void GlBackend::copy(View dst, View src, int64_t n) {
    check_view(dst, n);
    check_view(src, n);
    if (n == 0 || (dst.buf.id == src.buf.id && dst.off == src.off)) return;
    use(kCopy);
    if (overlap(dst, n, src, n)) {
        barrier_for_buffer_api();
        const unsigned s = scratch(n);
        stage(entry(src.buf).name, src.off, s, n);
        uniform(kCopy, "src_off", bind_name(1, s, 0, n));
    } else {
        uniform(kCopy, "src_off", bind(1, src, n));
    }
    uniform(kCopy, "dst_off", bind(0, dst, n));
    uniform(kCopy, "n", n);
    dispatch_linear(ceil_div(n, 256));
}

// dst[r*dst_stride + c] = src[r*src_stride + c]; when the spans overlap, src is staged first
// (every row reads the source as it was before the call).
void GlBackend::copy_rows(View dst, int64_t dst_stride, View src, int64_t src_stride, int64_t rows, int64_t cols) {
    if (rows <= 0 || cols <= 0) return;
    MLA_CHECK(dst_stride >= 0 && src_stride >= 0);
    MLA_CHECK(rows * cols <= kUintMax);
    const int64_t nd = (rows - 1) * dst_stride + cols;
    const int64_t ns = (rows - 1) * src_stride + cols;
    check_view(dst, nd);
    check_view(src, ns);
    use(kCopyRows);
    if (overlap(dst, nd, src, ns)) {
        barrier_for_buffer_api();
        const unsigned s = scratch(ns);
        stage(entry(src.buf).name, src.off, s, ns);
        uniform(kCopyRows, "src_off", bind_name(1, s, 0, ns));
    } else {
        uniform(kCopyRows, "src_off", bind(1, src, ns));
    }
    uniform(kCopyRows, "dst_off", bind(0, dst, nd));
    uniform(kCopyRows, "dst_stride", dst_stride);
    uniform(kCopyRows, "src_stride", src_stride);
    uniform(kCopyRows, "rows", rows);
    uniform(kCopyRows, "cols", cols);
    dispatch_linear(ceil_div(rows * cols, 256));
}

// Rows rounded to a stored dtype; a narrow row owns whole 32-bit words (shaders/store_rows.comp).
void GlBackend::store_rows(View dst, CacheDtype d, int64_t dst_stride, View src, int64_t src_stride, int64_t rows,
                           int64_t cols) {
    if (rows <= 0 || cols <= 0) return;
    const int64_t per = 4 / cache_dtype_bytes(d);
    MLA_CHECK(dst.off % per == 0 && dst_stride % per == 0 && dst_stride >= 0 && src_stride >= 0);
    const int64_t words = (cols + per - 1) / per;
    MLA_CHECK(rows * words <= kUintMax);
    const int64_t ns = (rows - 1) * src_stride + cols;
    check_view(src, ns);
    use(kStoreRows);
    const int64_t elem = bind_typed(0, dst, d, (rows - 1) * dst_stride + words * per);
    uniform(kStoreRows, "dst_word", elem / per);
    uniform(kStoreRows, "dst_stride_words", dst_stride / per);
    uniform(kStoreRows, "src_off", bind(1, src, ns));
    uniform(kStoreRows, "src_stride", src_stride);
    uniform(kStoreRows, "rows", rows);
    uniform(kStoreRows, "cols", cols);
    uniform(kStoreRows, "dtype", static_cast<int64_t>(d));
    dispatch_linear(ceil_div(rows * words, 64));
}

void GlBackend::load_rows(View dst, int64_t dst_stride, View src, CacheDtype d, int64_t src_stride, int64_t rows,
                          int64_t cols) {
    if (rows <= 0 || cols <= 0) return;
    MLA_CHECK(dst_stride >= 0 && src_stride >= 0 && rows * cols <= kUintMax);
    use(kLoadRows);
    uniform(kLoadRows, "dst_off", bind(0, dst, (rows - 1) * dst_stride + cols));
    uniform(kLoadRows, "dst_stride", dst_stride);
    uniform(kLoadRows, "src_elem", bind_typed(1, src, d, (rows - 1) * src_stride + cols));
    uniform(kLoadRows, "src_stride", src_stride);
    uniform(kLoadRows, "rows", rows);
    uniform(kLoadRows, "cols", cols);
    uniform(kLoadRows, "dtype", static_cast<int64_t>(d));
    dispatch_linear(ceil_div(rows * cols, 256));
}

// Fused decode attention: attend.comp over (64-row blocks, heads), then attend_merge.comp.
void GlBackend::attend(const AttendArgs& a) {
    MLA_CHECK(a.H > 0 && a.T >= 0 && a.k.group > 0 && a.v.group > 0 && a.H % a.k.group == 0 && a.H % a.v.group == 0);
    MLA_CHECK(a.k2.dim == 0 || (a.k2.group > 0 && a.H % a.k2.group == 0));
    const int64_t H = a.H, T = a.T, dv = a.v.dim, blocks = ceil_div(T, 64);
    if (blocks > kMaxGroups)
        throw InputError("gpu backend: a context of " + std::to_string(T) + " tokens is beyond this kernel's " +
                         std::to_string(kMaxGroups * 64) + "; use --backend cpu");
    const int64_t np = H * blocks * (2 + dv);
    MLA_CHECK(np <= kUintMax);
    const unsigned part = partials(std::max<int64_t>(np, 1));
    if (blocks > 0) {
        auto extent = [&](const KvOperand& o) {
            return (T - 1) * o.row_stride + (H / o.group - 1) * o.head_stride + o.dim;
        };
        use(kAttend);
        uniform(kAttend, "part_off", bind_name(0, part, 0, np));
        uniform(kAttend, "q_off", bind(1, a.q, (H - 1) * a.q_stride + a.k.dim + a.k2.dim));
        auto operand = [&](int slot, const KvOperand& o, const char* elem, const char* row, const char* head,
                           const char* dim, const char* group, const char* dtype) {
            uniform(kAttend, elem, bind_typed(slot, o.v, o.dtype, extent(o)));
            uniform(kAttend, row, o.row_stride);
            uniform(kAttend, head, o.head_stride);
            uniform(kAttend, dim, o.dim);
            uniform(kAttend, group, o.group);
            uniform(kAttend, dtype, static_cast<int64_t>(o.dtype));
        };
        operand(2, a.k, "k_elem", "k_row_stride", "k_head_stride", "k_dim", "k_group", "k_dtype");
        if (a.k2.dim > 0) {
            operand(3, a.k2, "k2_elem", "k2_row_stride", "k2_head_stride", "k2_dim", "k2_group", "k2_dtype");
        } else {  // not read: any buffer stands in
            bind(3, a.q, 0);
            for (const char* u : {"k2_elem", "k2_row_stride", "k2_head_stride", "k2_dim", "k2_dtype"}) uniform(kAttend, u, 0);
            uniform(kAttend, "k2_group", 1);
        }
        operand(4, a.v, "v_elem", "v_row_stride", "v_head_stride", "v_dim", "v_group", "v_dtype");
        const bool scores = a.scores.buf.id >= 0;
        uniform(kAttend, "s_off", scores ? bind(5, a.scores, H * T) : bind_name(5, part, 0, 0));
        uniform(kAttend, "write_scores", scores ? 1 : 0);
        uniform(kAttend, "T", T);
        uniform(kAttend, "blocks", blocks);
        uniform(kAttend, "q_stride", a.q_stride);
        uniform_f(kAttend, "scale", a.scale);
        dispatch(blocks, H);
    }
    use(kAttendMerge);
    uniform(kAttendMerge, "out_off", bind(0, a.out, (H - 1) * a.out_stride + dv));
    uniform(kAttendMerge, "out_stride", a.out_stride);
    uniform(kAttendMerge, "part_off", bind_name(1, part, 0, std::max<int64_t>(np, 1)));
    uniform(kAttendMerge, "blocks", blocks);
    uniform(kAttendMerge, "v_dim", dv);
    dispatch(H);
}

// ---- [SECTION] operations --------------------------------------------------------------

// x (D) = table[token] (V, D)
void GlBackend::embed(View x, View table, int64_t token, int64_t D) {
    MLA_CHECK(token >= 0 && D >= 0);
    if (D == 0) return;
    use(kEmbed);
    uniform(kEmbed, "x_off", bind(0, x, D));
    uniform(kEmbed, "table_off", bind(1, table.at(token * D), D));
    uniform(kEmbed, "D", D);
    dispatch_linear(ceil_div(D, 256));
}

// y (N) = W (N, K) x (K); accumulate: y += W x
void GlBackend::matvec(View y, View x, View W, int64_t N, int64_t K, bool accumulate) {
    MLA_CHECK(N >= 0 && K >= 0);
    if (N == 0) return;
    use(kMatvec);
    uniform(kMatvec, "y_off", bind(0, y, N));
    uniform(kMatvec, "x_off", bind(1, x, K));
    uniform(kMatvec, "w_off", bind(2, W, N * K));
    uniform(kMatvec, "N", N);
    uniform(kMatvec, "K", K);
    uniform(kMatvec, "accumulate", accumulate ? 1 : 0);
    dispatch_linear(ceil_div(N, 4));
}

// Y (M, N) = X (M, K) W (N, K)^T, row m of X at X[m*x_stride]
void GlBackend::matmul(View Y, View X, View W, int64_t M, int64_t N, int64_t K, int64_t x_stride) {
    MLA_CHECK(M >= 0 && N >= 0 && K >= 0 && x_stride >= 0);
    if (M == 0 || N == 0) return;
    use(kMatmul);
    uniform(kMatmul, "y_off", bind(0, Y, M * N));
    uniform(kMatmul, "x_off", bind(1, X, (M - 1) * x_stride + K));
    uniform(kMatmul, "w_off", bind(2, W, N * K));
    uniform(kMatmul, "M", M);
    uniform(kMatmul, "N", N);
    uniform(kMatmul, "K", K);
    uniform(kMatmul, "x_stride", x_stride);
    dispatch(ceil_div(N, 16), ceil_div(M, 16));
}

// y (n) = x / sqrt(mean(x^2) + eps) * w
void GlBackend::rmsnorm(View y, View x, View w, int64_t n, float eps) {
    MLA_CHECK(n >= 0);
    if (n == 0) return;
    use(kRmsnorm);
    uniform(kRmsnorm, "y_off", bind(0, y, n));
    uniform(kRmsnorm, "x_off", bind(1, x, n));
    uniform(kRmsnorm, "w_off", bind(2, w, n));
    uniform(kRmsnorm, "n", n);
    uniform_f(kRmsnorm, "eps", eps);
    dispatch(1);
}

// The (cos, sin) table of model/rope.h (the CPU backend's), kept on the GPU and grown with it.
const GlBackend::RopeTable& GlBackend::rope_table(const std::vector<float>& inv_freq, int64_t positions) {
    RopeTable& t = rope_tables_[inv_freq];
    bool grew = false;
    const mla::RopeTable& host = rope_host_.get(inv_freq, positions, &grew);
    if (t.name && t.positions == host.positions) return t;
    barrier_for_buffer_api();
    if (t.name) glDeleteBuffers(1, &t.name);  // GL keeps it alive for dispatches already queued
    t.name = new_buffer(static_cast<int64_t>(host.cs.size()), host.cs.data(), false);
    t.positions = host.positions;
    return t;
}

// In place: rotate pairs of x[r*row_stride + h*head_stride + (0..dim-1)] at position pos0 + r
void GlBackend::rope(View x, int64_t rows, int64_t row_stride, int64_t heads, int64_t head_stride, int64_t dim,
                     int64_t pos0, const std::vector<float>& inv_freq, RopeLayout layout) {
    if (rows <= 0 || heads <= 0) return;
    MLA_CHECK(dim % 2 == 0 && dim >= 0 && pos0 >= 0 && row_stride >= 0 && head_stride >= 0);
    MLA_CHECK(static_cast<int64_t>(inv_freq.size()) == dim / 2);
    if (dim == 0) return;
    MLA_CHECK(rows * heads * (dim / 2) <= kUintMax);
    const int64_t half = dim / 2;
    const RopeTable& t = rope_table(inv_freq, pos0 + rows);
    use(kRope);
    uniform(kRope, "x_off", bind(0, x, (rows - 1) * row_stride + (heads - 1) * head_stride + dim));
    // bind only the rows used: positions pos0 .. pos0 + rows - 1
    uniform(kRope, "cs_off", bind_name(1, t.name, pos0 * half * 2, rows * half * 2));
    uniform(kRope, "pos0", 0);  // the bound table range starts at pos0
    uniform(kRope, "rows", rows);
    uniform(kRope, "row_stride", row_stride);
    uniform(kRope, "heads", heads);
    uniform(kRope, "head_stride", head_stride);
    uniform(kRope, "dim", dim);
    uniform(kRope, "interleaved", layout == RopeLayout::Interleaved ? 1 : 0);
    dispatch_linear(ceil_div(rows * heads * half, 64));
}

// scores (H, T) (+)= q_h . k_{j, h/group}
void GlBackend::attn_scores(View scores, View q, View k, int64_t H, int64_t T, int64_t dim, int64_t q_stride,
                            int64_t k_row_stride, int64_t k_head_stride, int64_t group, bool accumulate) {
    MLA_CHECK(group > 0 && H % group == 0);
    MLA_CHECK(H >= 0 && T >= 0 && dim >= 0 && q_stride >= 0 && k_row_stride >= 0 && k_head_stride >= 0);
    if (T == 0 || H == 0) return;
    const int64_t G = H / group;
    use(kAttnScores);
    uniform(kAttnScores, "s_off", bind(0, scores, H * T));
    uniform(kAttnScores, "q_off", bind(1, q, (H - 1) * q_stride + dim));
    uniform(kAttnScores, "k_off", bind(2, k, (T - 1) * k_row_stride + (G - 1) * k_head_stride + dim));
    uniform(kAttnScores, "H", H);
    uniform(kAttnScores, "T", T);
    uniform(kAttnScores, "dim", dim);
    uniform(kAttnScores, "q_stride", q_stride);
    uniform(kAttnScores, "k_row_stride", k_row_stride);
    uniform(kAttnScores, "k_head_stride", k_head_stride);
    uniform(kAttnScores, "group_size", group);
    uniform(kAttnScores, "accumulate", accumulate ? 1 : 0);
    dispatch_linear(ceil_div(H * T, 64));
}

// Row-wise softmax of scale * x over (R, n), in place
void GlBackend::softmax(View x, int64_t R, int64_t n, float scale) {
    MLA_CHECK(R >= 0 && n >= 0);
    if (R == 0 || n == 0) return;
    use(kSoftmax);
    uniform(kSoftmax, "x_off", bind(0, x, R * n));
    uniform(kSoftmax, "R", R);
    uniform(kSoftmax, "n", n);
    uniform_f(kSoftmax, "scale", scale);
    dispatch_linear(R);
}

// out_h (dim) = sum_j p[h, j] v_{j, h/group}
void GlBackend::attn_values(View out, View p, View v, int64_t H, int64_t T, int64_t dim, int64_t out_stride,
                            int64_t v_row_stride, int64_t v_head_stride, int64_t group) {
    MLA_CHECK(group > 0 && H % group == 0);
    MLA_CHECK(H >= 0 && T >= 0 && dim >= 0 && out_stride >= 0 && v_row_stride >= 0 && v_head_stride >= 0);
    if (H == 0 || dim == 0) return;
    const int64_t G = H / group;
    use(kAttnValues);
    uniform(kAttnValues, "out_off", bind(0, out, (H - 1) * out_stride + dim));
    if (T > 0) {
        uniform(kAttnValues, "p_off", bind(1, p, H * T));
        uniform(kAttnValues, "v_off", bind(2, v, (T - 1) * v_row_stride + (G - 1) * v_head_stride + dim));
    } else {  // nothing is read: bind the output range as stand-ins
        uniform(kAttnValues, "p_off", bind(1, out, 0));
        uniform(kAttnValues, "v_off", bind(2, out, 0));
    }
    uniform(kAttnValues, "H", H);
    uniform(kAttnValues, "T", T);
    uniform(kAttnValues, "dim", dim);
    uniform(kAttnValues, "out_stride", out_stride);
    uniform(kAttnValues, "v_row_stride", v_row_stride);
    uniform(kAttnValues, "v_head_stride", v_head_stride);
    uniform(kAttnValues, "group_size", group);
    dispatch_linear(ceil_div(H * dim, 64));
}

// q_absorbed_h (C) = W_UK,h^T q_nope_h at q_absorbed[h*out_stride], W_UK,h = kv_b rows [h (Dn+Dv), h (Dn+Dv) + Dn)
void GlBackend::absorb_query(View q_absorbed, View q, View kv_b, int64_t H, int64_t Dn, int64_t Dv, int64_t C,
                             int64_t q_stride, int64_t out_stride) {
    MLA_CHECK(H >= 0 && Dn >= 0 && Dv >= 0 && C >= 0 && q_stride >= 0 && out_stride >= 0);
    if (H == 0 || C == 0) return;
    use(kAbsorbQuery);
    uniform(kAbsorbQuery, "qa_off", bind(0, q_absorbed, (H - 1) * out_stride + C));
    uniform(kAbsorbQuery, "q_off", bind(1, q, (H - 1) * q_stride + Dn));
    uniform(kAbsorbQuery, "kv_b_off", bind(2, kv_b, H * (Dn + Dv) * C));
    uniform(kAbsorbQuery, "H", H);
    uniform(kAbsorbQuery, "Dn", Dn);
    uniform(kAbsorbQuery, "Dv", Dv);
    uniform(kAbsorbQuery, "C", C);
    uniform(kAbsorbQuery, "q_stride", q_stride);
    uniform(kAbsorbQuery, "out_stride", out_stride);
    dispatch_linear(ceil_div(H * C, 64));
}

// out_h (Dv) = W_UV,h o_latent_h (C), W_UV,h = kv_b rows [h (Dn+Dv) + Dn, (h+1) (Dn+Dv))
void GlBackend::latent_output(View out, View o_latent, View kv_b, int64_t H, int64_t Dn, int64_t Dv, int64_t C) {
    MLA_CHECK(H >= 0 && Dn >= 0 && Dv >= 0 && C >= 0);
    if (H == 0 || Dv == 0) return;
    use(kLatentOutput);
    uniform(kLatentOutput, "out_off", bind(0, out, H * Dv));
    uniform(kLatentOutput, "ol_off", bind(1, o_latent, H * C));
    uniform(kLatentOutput, "kv_b_off", bind(2, kv_b, H * (Dn + Dv) * C));
    uniform(kLatentOutput, "H", H);
    uniform(kLatentOutput, "Dn", Dn);
    uniform(kLatentOutput, "Dv", Dv);
    uniform(kLatentOutput, "C", C);
    dispatch_linear(ceil_div(H * Dv, 4));
}

// out (n) = silu(gate) * up
void GlBackend::swiglu(View out, View gate, View up, int64_t n) {
    MLA_CHECK(n >= 0);
    if (n == 0) return;
    use(kSwiglu);
    uniform(kSwiglu, "out_off", bind(0, out, n));
    uniform(kSwiglu, "gate_off", bind(1, gate, n));
    uniform(kSwiglu, "up_off", bind(2, up, n));
    uniform(kSwiglu, "n", n);
    dispatch_linear(ceil_div(n, 256));
}

// y (n) += x (n)
void GlBackend::add(View y, View x, int64_t n) {
    MLA_CHECK(n >= 0);
    if (n == 0) return;
    use(kAdd);
    uniform(kAdd, "y_off", bind(0, y, n));
    uniform(kAdd, "x_off", bind(1, x, n));
    uniform(kAdd, "n", n);
    dispatch_linear(ceil_div(n, 256));
}

}  // namespace mla::gl
