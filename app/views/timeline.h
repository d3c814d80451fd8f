// The transport (Step, Play at an adjustable speed, Reset) and the timeline of fed
// tokens: click a token, drag the slider or press Left/Right to scrub; every view then
// shows that step.
#pragma once

#include "views/view.h"

namespace mla::app {

struct Transport {
    bool playing = false;
    double carry = 0;              // fraction of a token owed by the play clock
    // Draws the buttons and the line about the selected step, which wraps before the last
    // `reserve_right` pixels of the line; speed is tokens per second (the UI setting).
    void draw(const Frame& f, Commands& cmds, float& speed, float reserve_right = 0);
    // Play clock: pushes the steps due after dt seconds.
    void tick(double dt, const Session& s, Commands& cmds, float speed);
};

struct Timeline {
    int64_t scrolled_to = -2;      // the step the strip last scrolled to
    void draw(const Frame& f, Commands& cmds);
};

}  // namespace mla::app
