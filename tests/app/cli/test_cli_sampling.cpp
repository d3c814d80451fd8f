// `generate --top-k K --top-p P --json`: each step's "top" is the distribution its token was
// drawn from, checked against `forward --json` on the same ids, with softmax, top-k and
// top-p written again here; the sampled tokens stay inside the kept set.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/run_cli.h"

using nlohmann::json;
using mla::test::run_cli;

namespace {

// softmax(logits / T) (T = 1 when greedy), the top_k largest kept, then the most likely
// first until their mass reaches top_p, renormalised; returned as (id, p), most likely first.
std::vector<std::pair<int64_t, double>> expected(const std::vector<double>& logits, double T, int64_t k, double top_p) {
    if (T <= 0) T = 1;
    const double mx = *std::max_element(logits.begin(), logits.end());
    std::vector<std::pair<int64_t, double>> p;
    double z = 0;
    for (size_t i = 0; i < logits.size(); ++i) z += std::exp((logits[i] - mx) / T);
    for (size_t i = 0; i < logits.size(); ++i) p.push_back({static_cast<int64_t>(i), std::exp((logits[i] - mx) / T) / z});
    std::stable_sort(p.begin(), p.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (k > 0 && static_cast<size_t>(k) < p.size()) p.resize(static_cast<size_t>(k));
    double mass = 0;
    size_t keep = 0;
    while (keep < p.size()) {
        mass += p[keep++].second;
        if (mass >= top_p) break;
    }
    p.resize(keep);
    for (auto& e : p) e.second /= mass;
    return p;
}

std::vector<json> lines(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) out.push_back(json::parse(line));
    return out;
}

std::string join(const std::vector<int64_t>& ids) {
    std::string s;
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
    return s;
}

}  // namespace

TEST_CASE("generate --top-k --top-p: top is the restricted, renormalised softmax of forward's logits", "[cli][sampling]") {
    struct Case { const char* flags; double T; int64_t k; double p; };
    for (const Case& c : {Case{"--temperature 0.8 --top-k 5", 0.8, 5, 1.0}, Case{"--temperature 1.3 --top-p 0.6", 1.3, 0, 0.6},
                          Case{"--temperature 0.7 --top-k 20 --top-p 0.9", 0.7, 20, 0.9}, Case{"--top-k 3", 0, 3, 1.0}}) {
        INFO(c.flags);
        const std::vector<int64_t> prompt = {'T', 'h', 'e', ' '};
        const auto g = run_cli("generate --ids " + join(prompt) + " --tokens 6 --seed 11 --json " + c.flags);
        REQUIRE(g.status == 0);
        const std::vector<json> steps = lines(g.text);
        REQUIRE(steps.size() == 6);
        std::vector<int64_t> ids = prompt;
        for (const json& st : steps) {
            // The logits this step's token was drawn from: forward on every id before it.
            const auto f = run_cli("forward --ids " + join(ids) + " --json");
            REQUIRE(f.status == 0);
            const json fj = json::parse(f.text);
            const std::vector<double> logits = fj.at("logits").back().get<std::vector<double>>();
            const auto want = expected(logits, c.T, c.k, c.p);
            const json& top = st.at("top");
            REQUIRE(top.size() == 10);
            double sum = 0;
            for (size_t i = 0; i < top.size(); ++i) {
                if (i < want.size()) {
                    CHECK(top[i].at("token_id").get<int64_t>() == want[i].first);
                    CHECK(top[i].at("p").get<double>() == Approx(want[i].second).margin(1e-5));
                } else {
                    CHECK(top[i].at("p").get<double>() == 0);   // cut by top-k or top-p, still listed
                }
                sum += top[i].at("p").get<double>();
            }
            // The listed order is the temperature's: the cut ones follow, most likely first.
            const auto all = expected(logits, c.T, 0, 1.0);
            for (size_t i = want.size(); i < top.size(); ++i) CHECK(top[i].at("token_id").get<int64_t>() == all[i].first);
            CHECK(sum <= 1.0 + 1e-9);
            const int64_t tok = st.at("token_id").get<int64_t>();
            const bool kept = std::any_of(want.begin(), want.end(), [&](const auto& e) { return e.first == tok; });
            CHECK(kept);   // a token outside top-k / top-p is never drawn
            if (c.T <= 0) {
                CHECK(tok == want[0].first);
                CHECK(st.at("chosen_by") == "greedy");
            } else {
                CHECK(st.at("chosen_by") == "sampled");
            }
            ids.push_back(tok);
        }
    }
}

TEST_CASE("generate: bad --top-k and --top-p exit 2 with one line", "[cli][sampling]") {
    for (const char* flags : {"--top-k -1", "--top-p 0", "--top-p 1.5", "--top-p nan"}) {
        INFO(flags);
        const auto r = run_cli(std::string("generate --tokens 2 ") + flags);
        CHECK(r.status == 2);
        CHECK(r.text.rfind("mla-lab: error: ", 0) == 0);
        CHECK(std::count(r.text.begin(), r.text.end(), '\n') == 1);
    }
}
