// libFuzzer target: a model folder. The bytes are split in two: the first 4 bytes are the
// little-endian length n of config.json (clamped to what follows), the next n bytes are
// config.json and the rest is model.safetensors. Then load_model(dir).
//
// To turn a folder into an input (a seed, or a crash to read):
//   python3 -c 'import struct,sys; c=open(sys.argv[1],"rb").read(); m=open(sys.argv[2],"rb").read();
//               sys.stdout.buffer.write(struct.pack("<I",len(c))+c+m)' config.json model.safetensors
#include <cstdint>

#include "fuzz/fuzz_common.h"
#include "io/model_folder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 4) return 0;
    size_t n = static_cast<size_t>(data[0]) | static_cast<size_t>(data[1]) << 8 | static_cast<size_t>(data[2]) << 16 |
               static_cast<size_t>(data[3]) << 24;
    if (n > size - 4) n = size - 4;
    const std::string dir = fuzz::temp_dir().string();
    fuzz::write_temp("config.json", data + 4, n);
    fuzz::write_temp("model.safetensors", data + 4 + n, size - 4 - n);
    try {
        const mla::Weights w = mla::load_model(dir);
        (void)w;
    } catch (const mla::InputError& e) {
        fuzz::refused(e);
    }
    return 0;
}
