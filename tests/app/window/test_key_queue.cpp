// The window's key queue: every press between two frames counts, releases do not, and
// shortcuts with Ctrl or Alt are left to ImGui.
#include <catch2/catch.hpp>

#include "window/key_queue.h"

using mla::app::KeyQueue;

TEST_CASE("key queue: presses and repeats within one frame all count; a take empties them", "[keys]") {
    KeyQueue q;
    const int right = 262, left = 263;  // GLFW_KEY_RIGHT, GLFW_KEY_LEFT
    for (int i = 0; i < 30; ++i) {       // 30 quick presses, each released before the next frame
        q.push(right, KeyQueue::kPress, false);
        q.push(right, KeyQueue::kRelease, false);
    }
    q.push(right, KeyQueue::kRepeat, false);  // a key held: the system's auto-repeat
    q.push(left, KeyQueue::kPress, true);     // Ctrl+Left: a shortcut, not a step
    CHECK(q.take(right) == 31);
    CHECK(q.take(right) == 0);
    CHECK(q.take(left) == 0);
    q.push(left, KeyQueue::kPress, false);
    CHECK_FALSE(q.empty());
    q.clear();
    CHECK(q.empty());
    CHECK(q.take(left) == 0);
}
