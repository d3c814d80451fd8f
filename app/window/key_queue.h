// Key presses as they arrive, not as they stand at the next frame. Dear ImGui 1.86 polls the
// keys' state once per frame, so a key pressed and released within one frame (quick presses,
// or a presenter's clicker) is never seen: 30 quick Right presses gave 26 steps. The window's
// GLFW key callback pushes every press and auto-repeat here; the frame takes the count of
// each key it handles. No GLFW here (its action codes are passed in): tested without a window.
#pragma once

#include <map>

namespace mla::app {

class KeyQueue {
public:
    static constexpr int kRelease = 0, kPress = 1, kRepeat = 2;  // GLFW_RELEASE, GLFW_PRESS, GLFW_REPEAT

    // One key event; presses and repeats count, releases do not. Presses with Ctrl or Alt held
    // are shortcuts, not transport keys: they are not counted here.
    void push(int key, int action, bool ctrl_or_alt) {
        if ((action == kPress || action == kRepeat) && !ctrl_or_alt) ++counts_[key];
    }
    // How many times `key` was pressed since the last take or clear, and forgets them.
    int take(int key) {
        auto it = counts_.find(key);
        if (it == counts_.end()) return 0;
        const int n = it->second;
        counts_.erase(it);
        return n;
    }
    void clear() { counts_.clear(); }  // the presses went to something else (a text field)
    bool empty() const { return counts_.empty(); }

private:
    std::map<int, int> counts_;
};

}  // namespace mla::app
