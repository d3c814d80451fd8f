// libFuzzer target: the bytes are a model.safetensors file. SafetensorsReader validates the
// header and layout, then every entry is read (F32/F16/BF16 converted to float; the other
// dtypes are refused with an InputError, per entry). Checked besides: what the reader promises
// about the entries it accepts (offsets inside the data, shape agreeing with the size), so
// a header that slips through is found before a read goes out of bounds.
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_common.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::write_temp("model.safetensors", data, size);
    try {
        mla::SafetensorsReader r(path);
        const int64_t file_size = static_cast<int64_t>(size);
        for (const mla::SafetensorsEntry& e : r.entries()) {
            fuzz::expect(r.find(e.name) == &e, "find('" + e.name + "') is not the entry listed");
            fuzz::expect(e.begin >= 0 && e.begin <= e.end && e.end <= file_size,
                         "entry '" + e.name + "' has offsets outside the file");
            const int64_t n = e.numel();
            // F32/F16/BF16 take 2 or 4 bytes an element, every element is in the file.
            fuzz::expect(n >= 0 && n <= file_size, "entry '" + e.name + "' " + e.shape_str() + " has more elements (" +
                                                       std::to_string(n) + ") than the file has bytes");
            try {
                std::vector<float> dst(static_cast<size_t>(n));
                r.read(e, dst.data());
                const std::vector<float> again = r.read(e.name);
                fuzz::expect(again.size() == dst.size(), "read by name gives another size for '" + e.name + "'");
            } catch (const mla::InputError& err) {
                // an unsupported dtype: the next entry is still read
                fuzz::refused(err);
            }
        }
        fuzz::expect(r.find("__metadata__") == nullptr, "__metadata__ listed as a tensor");
    } catch (const mla::InputError& e) {
        fuzz::refused(e);
    }
    return 0;
}
