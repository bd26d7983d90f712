// Monotonic seconds, the clock the deadlines of every program run on.
#pragma once

#include <ctime>

namespace p2p {

// A few milliseconds coarse, and cheap enough for every read: deadlines.
inline double coarse_now()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Fine-grained: durations to report (rates, latencies).
inline double precise_now()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

} // namespace p2p
