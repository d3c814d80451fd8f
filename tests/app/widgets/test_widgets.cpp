// Pure logic of the widgets (no window, no GL, no ImGui context): ticks, axis
// transforms, range fit, nearest point, number formatting, colour map, heatmap
// helpers and tensor box layout.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "widgets/colormap.h"
#include "widgets/heatmap.h"
#include "widgets/plot.h"
#include "widgets/tensor_box.h"

using namespace mla::widgets;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

std::vector<double> values_of(const std::vector<Tick>& ticks, bool labelled_only = false) {
    std::vector<double> v;
    for (const Tick& t : ticks)
        if (!labelled_only || t.labelled) v.push_back(t.value);
    return v;
}

void require_close(const std::vector<double>& got, const std::vector<double>& want) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) REQUIRE_THAT(got[i], WithinRel(want[i], 1e-9) || WithinAbs(want[i], 1e-12));
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("nice_step picks 1, 2 or 5 times a power of ten", "[widgets][plot]") {
    CHECK_THAT(nice_step(10, 5), WithinRel(2.0));
    CHECK_THAT(nice_step(10, 10), WithinRel(1.0));
    CHECK_THAT(nice_step(100, 4), WithinRel(20.0));   // 25 -> 2
    CHECK_THAT(nice_step(1, 2), WithinRel(0.5));
    CHECK_THAT(nice_step(0.7, 7), WithinRel(0.1));
    CHECK_THAT(nice_step(7000, 2), WithinRel(5000.0));
    CHECK_THAT(nice_step(9, 1), WithinRel(10.0));
    CHECK(nice_step(0, 5) == 1);  // degenerate span
}

TEST_CASE("linear ticks are multiples of the step inside the range", "[widgets][plot]") {
    require_close(values_of(make_ticks({0, 10}, AxisScale::Linear, 5)), {0, 2, 4, 6, 8, 10});
    require_close(values_of(make_ticks({-0.3, 0.72}, AxisScale::Linear, 5)), {-0.2, 0, 0.2, 0.4, 0.6});
    const auto t = make_ticks({0.05, 0.95}, AxisScale::Linear, 4);
    require_close(values_of(t), {0.2, 0.4, 0.6, 0.8});
    for (const Tick& k : t) CHECK(k.step == Approx(0.2));
    // zero prints as 0, not a rounding residue
    for (const Tick& k : make_ticks({-1, 1}, AxisScale::Linear, 10))
        if (std::abs(k.value) < 0.05) CHECK(k.value == 0.0);
}

TEST_CASE("log ticks: decades with 2 and 5 minors", "[widgets][plot]") {
    const auto t = make_ticks({1, 1000}, AxisScale::Log10, 6);
    require_close(values_of(t), {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000});
    for (const Tick& k : t) CHECK(k.major == (k.value == 1 || k.value == 10 || k.value == 100 || k.value == 1000));
    // 3 decades: minors not labelled
    require_close(values_of(t, true), {1, 10, 100, 1000});

    // short range: minors labelled
    const auto s = make_ticks({1, 100}, AxisScale::Log10, 6);
    require_close(values_of(s, true), {1, 2, 5, 10, 20, 50, 100});

    // 12 decades, 6 labels at most: every third decade labelled, no minors
    const auto w = make_ticks({1, 1e12}, AxisScale::Log10, 6);
    CHECK(values_of(w).size() == 13);
    require_close(values_of(w, true), {1, 1e3, 1e6, 1e9, 1e12});
}

TEST_CASE("binary ticks sit on round KiB / MiB / GiB values", "[widgets][plot]") {
    const double KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
    // log: 1, 10, 100 times 1024^k, with 2 and 5 minors
    const auto t = make_ticks({MiB, GiB}, AxisScale::Log10, 6, true);
    require_close(values_of(t), {MiB, 2 * MiB, 5 * MiB, 10 * MiB, 20 * MiB, 50 * MiB, 100 * MiB, 200 * MiB, 500 * MiB, GiB});
    // many decades: thinned to whole powers of 1024
    const auto w = make_ticks({KiB, 1024 * GiB}, AxisScale::Log10, 4, true);
    require_close(values_of(w, true), {KiB, MiB, GiB, 1024 * GiB});
    // linear: steps of a round fraction of the unit
    const auto l = make_ticks({0, 2 * GiB}, AxisScale::Linear, 4, true);
    require_close(values_of(l), {0, 0.5 * GiB, GiB, 1.5 * GiB, 2 * GiB});
    CHECK(format_value(l[1].value, AxisFormat::BytesBinary, l[1].step) == "512 MiB");
    CHECK(format_value(l[3].value, AxisFormat::BytesBinary, l[3].step) == "1.5 GiB");
    CHECK(format_value(t[7].value, AxisFormat::BytesBinary, t[7].step) == "200 MiB");
}

TEST_CASE("log ticks inside one decade fall back to 1-2-5 steps", "[widgets][plot]") {
    const auto t = make_ticks({3, 8}, AxisScale::Log10, 5);
    require_close(values_of(t), {3, 4, 5, 6, 7, 8});
    // enough decade/minor ticks: keep them
    require_close(values_of(make_ticks({15, 120}, AxisScale::Log10, 6), true), {20, 50, 100});
}

TEST_CASE("axis transforms are inverse of each other", "[widgets][plot]") {
    CHECK_THAT(axis_to_unit(5, {0, 10}, AxisScale::Linear), WithinAbs(0.5, 1e-12));
    CHECK_THAT(axis_to_unit(100, {1, 1e4}, AxisScale::Log10), WithinAbs(0.5, 1e-12));
    CHECK_THAT(axis_to_unit(1, {1, 1e4}, AxisScale::Log10), WithinAbs(0.0, 1e-12));
    CHECK(std::isnan(axis_to_unit(0, {1, 10}, AxisScale::Log10)));
    for (double u : {0.0, 0.25, 0.9, 1.0}) {
        CHECK_THAT(axis_to_unit(unit_to_axis(u, {-3, 7}, AxisScale::Linear), {-3, 7}, AxisScale::Linear), WithinAbs(u, 1e-12));
        CHECK_THAT(axis_to_unit(unit_to_axis(u, {2, 2e6}, AxisScale::Log10), {2, 2e6}, AxisScale::Log10), WithinAbs(u, 1e-12));
    }
}

TEST_CASE("fit_range pads, skips bad values and handles degenerate data", "[widgets][plot]") {
    const double v[] = {0, 10, kNaN, kInf};
    Range r = fit_range(v, 4, AxisScale::Linear, 0.1);
    CHECK_THAT(r.lo, WithinAbs(-1, 1e-12));
    CHECK_THAT(r.hi, WithinAbs(11, 1e-12));

    // include_zero: the zero side is not padded
    const double pos[] = {2, 10};
    r = fit_range(pos, 2, AxisScale::Linear, 0.1, true);
    CHECK(r.lo == 0);
    CHECK_THAT(r.hi, WithinAbs(11, 1e-12));

    // log: padding in decades; zero and negatives skipped
    const double lg[] = {0, -5, 10, 1000};
    r = fit_range(lg, 4, AxisScale::Log10, 0.5);
    CHECK_THAT(r.lo, WithinRel(1.0, 1e-9));
    CHECK_THAT(r.hi, WithinRel(1e4, 1e-9));

    const double one[] = {5};
    r = fit_range(one, 1, AxisScale::Linear, 0);
    CHECK(r.lo < 5);
    CHECK(r.hi > 5);
    r = fit_range(one, 1, AxisScale::Log10, 0);
    CHECK(r.lo < 5);
    CHECK(r.hi > 5);

    r = fit_range(nullptr, 0, AxisScale::Log10);
    CHECK(r.lo == 1);
    CHECK(r.hi == 10);
    r = fit_range(lg, 2, AxisScale::Log10);  // only 0 and -5: nothing usable
    CHECK(r.lo == 1);
}

TEST_CASE("nearest_point measures in axis space and skips bad points", "[widgets][plot]") {
    const double xs[] = {1, 10, 100, 1000};
    const double ys[] = {1, 2, kNaN, 4};
    CHECK(nearest_point(xs, ys, 4, 9, AxisScale::Linear) == 1);
    CHECK(nearest_point(xs, ys, 4, 80, AxisScale::Linear) == 1);    // 100 has a NaN y
    CHECK(nearest_point(xs, ys, 4, 400, AxisScale::Log10) == 3);    // log10: 2.6 nearer 3 than 1
    CHECK(nearest_point(xs, ys, 4, 400, AxisScale::Linear) == 1);   // linear: 400 nearer 10 than 1000
    CHECK(nearest_point(xs, ys, 4, 0, AxisScale::Log10) == -1);
    CHECK(nearest_point(xs, ys, 0, 5, AxisScale::Linear) == -1);
    const double unsorted[] = {5, 1, 3};
    const double u_ys[] = {0, 0, 0};
    CHECK(nearest_point(unsorted, u_ys, 3, 2.9, AxisScale::Linear) == 2);
}

TEST_CASE("format_value: plain numbers", "[widgets][plot]") {
    CHECK(format_value(0, AxisFormat::Number) == "0");
    CHECK(format_value(-0.0, AxisFormat::Number) == "0");
    CHECK(format_value(12.345, AxisFormat::Number) == "12.3");
    CHECK(format_value(0.0123, AxisFormat::Number) == "0.0123");
    CHECK(format_value(1500, AxisFormat::Number) == "1500");
    CHECK(format_value(15000000, AxisFormat::Number) == "1.5e7");
    CHECK(format_value(0.5, AxisFormat::Number, 0.5) == "0.5");
    CHECK(format_value(2, AxisFormat::Number, 0.5) == "2");
    CHECK(format_value(0.25, AxisFormat::Number, 0.05) == "0.25");
    CHECK(format_value(0.3, AxisFormat::Percent) == "30%");
    CHECK(format_value(kNaN, AxisFormat::Number) == "nan");
    CHECK(format_value(-kInf, AxisFormat::Bytes) == "-inf");
}

TEST_CASE("format_value: SI, counts and bytes", "[widgets][plot]") {
    CHECK(format_value(950, AxisFormat::SI) == "950");
    CHECK(format_value(1500, AxisFormat::SI) == "1.5k");
    CHECK(format_value(2e7, AxisFormat::SI) == "20M");
    CHECK(format_value(3e9, AxisFormat::SI) == "3G");
    CHECK(format_value(999960, AxisFormat::SI) == "1M");   // not "1000k"

    CHECK(format_value(1000, AxisFormat::Count, 1000) == "1k");
    CHECK(format_value(10000, AxisFormat::Count, 10000) == "10k");
    CHECK(format_value(100000, AxisFormat::Count, 100000) == "100k");
    CHECK(format_value(1e6, AxisFormat::Count, 1e6) == "1M");
    CHECK(format_value(236e9, AxisFormat::Count) == "236B");
    CHECK(format_value(128000, AxisFormat::Count) == "128k");
    CHECK(format_value(1500, AxisFormat::Count, 500) == "1.5k");
    CHECK(format_value(2048, AxisFormat::Count) == "2048");        // readout of a whole count
    CHECK(format_value(2048, AxisFormat::Count, 1000) == "2.048k"); // a tick label resolves exactly
    CHECK(format_value(2.5, AxisFormat::Count) == "2.5");

    CHECK(format_value(512, AxisFormat::Bytes) == "512 B");
    CHECK(format_value(1500, AxisFormat::Bytes) == "1.5 KB");
    CHECK(format_value(64e6, AxisFormat::Bytes) == "64 MB");
    CHECK(format_value(6e9, AxisFormat::Bytes) == "6 GB");
    CHECK(format_value(1536, AxisFormat::BytesBinary) == "1.5 KiB");
    CHECK(format_value(64.0 * 1024 * 1024, AxisFormat::BytesBinary) == "64 MiB");
    CHECK(format_value(6e9, AxisFormat::BytesBinary) == "5.59 GiB");
    // a value that is not round in binary units keeps enough digits to be honest
    CHECK(format_value(1e9, AxisFormat::BytesBinary, 1e9) == "953.674 MiB");
    // tick labels resolve their step
    CHECK(format_value(2.5e6, AxisFormat::Bytes, 5e5) == "2.5 MB");
    CHECK(format_value(3e6, AxisFormat::Bytes, 5e5) == "3 MB");
}

TEST_CASE("viridis table: ends, middle and monotone lightness", "[widgets][colormap]") {
    uint8_t c[3];
    colormap_rgb(0, c);
    CHECK((c[0] == 68 && c[1] == 1 && c[2] == 84));
    colormap_rgb(1, c);
    CHECK((c[0] == 253 && c[1] == 231 && c[2] == 37));
    colormap_rgb(0.5f, c);  // published middle: #21908C (33, 144, 140)
    CHECK(std::abs(c[0] - 33) <= 2);
    CHECK(std::abs(c[1] - 144) <= 2);
    CHECK(std::abs(c[2] - 140) <= 2);
    colormap_rgb(-1, c);  // clamped
    CHECK(c[0] == 68);
    colormap_rgb(std::numeric_limits<float>::quiet_NaN(), c);
    CHECK(c[0] == 68);
    // luma rises monotonically from dark to light
    float prev = -1;
    for (int i = 0; i < kColormapSize; ++i) {
        colormap_rgb(static_cast<float>(i) / (kColormapSize - 1), c);
        const float luma = 0.2126f * c[0] + 0.7152f * c[1] + 0.0722f * c[2];
        CHECK(luma >= prev - 0.5f);
        prev = luma;
    }
    CHECK(colormap(1) == IM_COL32(253, 231, 37, 255));
    CHECK(categorical_color(0) == categorical_color(7));
    CHECK(categorical_color(0) != categorical_color(1));
    CHECK(colormap_t(5, 0, 10) == 0.5f);
    CHECK(colormap_t(5, 3, 3) == 0.5f);
}

TEST_CASE("causal mask: rows are the last positions", "[widgets][heatmap]") {
    // square: the upper triangle is the future
    CHECK_FALSE(causal_masked(0, 0, 4, 4));
    CHECK(causal_masked(0, 1, 4, 4));
    CHECK_FALSE(causal_masked(3, 3, 4, 4));
    CHECK(causal_masked(2, 3, 4, 4));
    // 2 newest queries over 5 keys: row 0 is position 3
    CHECK_FALSE(causal_masked(0, 3, 2, 5));
    CHECK(causal_masked(0, 4, 2, 5));
    CHECK_FALSE(causal_masked(1, 4, 2, 5));
}

TEST_CASE("colorize: viridis, masked and non-finite cells are transparent", "[widgets][heatmap]") {
    const float data[] = {0, 1, std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()};
    std::vector<uint8_t> rgba(16, 7);
    colorize(data, 2, 2, 0, 1, true, rgba.data());
    CHECK((rgba[0] == 68 && rgba[1] == 1 && rgba[2] == 84 && rgba[3] == 255));  // (0,0) = vmin
    CHECK(rgba[7] == 0);                                                        // (0,1) future
    CHECK(rgba[11] == 0);                                                       // (1,0) NaN
    CHECK(rgba[15] == 0);                                                       // (1,1) -inf
    colorize(data, 2, 2, 0, 1, false, rgba.data());
    CHECK((rgba[4] == 253 && rgba[7] == 255));  // (0,1) = vmax, not masked
}

TEST_CASE("label_stride thins labels by 1-2-5 steps", "[widgets][heatmap]") {
    CHECK(label_stride(32, 20, 13) == 1);
    CHECK(label_stride(32, 10, 13) == 2);
    CHECK(label_stride(32, 4, 13) == 5);
    CHECK(label_stride(512, 1, 13) == 20);
    CHECK(label_stride(3, 0.1f, 13) == 5);  // never more than needed to show the first
    CHECK(label_stride(1, 1, 13) == 1);
}

TEST_CASE("cut_label and cell_at", "[widgets][heatmap]") {
    CHECK(cut_label("the", 10) == "the");
    CHECK(cut_label("abcdefghijkl", 10) == "abcdefgh..");
    CHECK(cut_label("a\nb", 10) == "a b");
    CHECK(cut_label("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 3) == "\xC3\xA9..");  // 4 x e-acute, cut by characters
    CHECK(cut_label(nullptr, 5).empty());

    CHECK(cell_at(0, 100, 10) == 0);
    CHECK(cell_at(99.9f, 100, 10) == 9);
    CHECK(cell_at(35, 100, 10) == 3);
    CHECK(cell_at(-0.1f, 100, 10) == -1);
    CHECK(cell_at(100, 100, 10) == -1);
}

TEST_CASE("tensor box sides: proportional, clamped, stacked", "[widgets][tensor_box]") {
    TensorBoxScale s;
    s.px_per_unit = 4;
    s.min_px = 6;
    s.max_px = 240;
    bool clamped = true;
    CHECK(tensor_side_px(17, s, &clamped) == 68);
    CHECK_FALSE(clamped);
    CHECK(tensor_side_px(4096, s, &clamped) == 240);
    CHECK(clamped);
    CHECK(tensor_side_px(1, s, &clamped) == 6);  // raised to the minimum: visible, not "cut"
    CHECK_FALSE(clamped);

    const int64_t x_shape[] = {1, 4096};
    TensorBoxLayout l = tensor_box_layout(x_shape, 2, s);
    CHECK(l.size.x == 240);
    CHECK(l.size.y == 6);
    CHECK(l.clamped_w);
    CHECK_FALSE(l.clamped_h);
    CHECK(l.stack == 1);

    const int64_t ckv[] = {17, 32};
    l = tensor_box_layout(ckv, 2, s);
    CHECK(l.size.x == 128);
    CHECK(l.size.y == 68);

    const int64_t k[] = {16, 17, 128};
    l = tensor_box_layout(k, 3, s);
    CHECK(l.stack == 3);
    CHECK(l.size.y == 68);

    const int64_t vec[] = {512};
    l = tensor_box_layout(vec, 1, s);
    CHECK(l.size.y == 6);  // a single row
    CHECK(l.size.x == 240);

    s.log = true;
    s.px_per_unit = 10;
    CHECK_THAT(tensor_side_px(1, s), WithinAbs(10, 1e-4));
    CHECK_THAT(tensor_side_px(16, s), WithinAbs(50, 1e-4));
    CHECK(tensor_side_px(4096, s) > tensor_side_px(512, s));  // log keeps order

    const TensorBoxScale f = fit_tensor_box_scale(4096, 6, 240);
    CHECK_THAT(tensor_side_px(4096, f), WithinAbs(240, 1e-3));
    CHECK_THAT(tensor_side_px(2048, f), WithinAbs(120, 1e-3));
}

TEST_CASE("tensor_label", "[widgets][tensor_box]") {
    const int64_t ckv[] = {17, 32};
    CHECK(tensor_label("c_KV", ckv, 2) == "c_KV: 17 x 32");
    CHECK(tensor_label(nullptr, ckv, 2) == "17 x 32");
    const int64_t k[] = {16, 17, 128};
    CHECK(tensor_label("k", k, 3) == "k: 16 x 17 x 128");
}
