// The floating-point error terms the exact searches' rounding bounds are built from (flat_search.cc,
// bound_search.cc): unit roundoffs, Higham's gamma_n, and directed rounding of a double to a float.
#pragma once

#include <cmath>
#include <limits>

namespace hark {

constexpr double kUnitFloat = 0x1p-24;   // u: float's unit roundoff
constexpr double kUnitDouble = 0x1p-53;  // v: double's

// gamma_n(unit) = n unit / (1 - n unit): the relative error bound of n roundings (Higham, 3.1).
inline double Gamma(double n, double unit) { return n * unit / (1 - n * unit); }

// The smallest float >= x, and the largest float <= x.
inline float RoundUp(double x) {
  const float f = static_cast<float>(x);
  return static_cast<double>(f) < x ? std::nextafter(f, std::numeric_limits<float>::infinity()) : f;
}
inline float RoundDown(double x) {
  const float f = static_cast<float>(x);
  return static_cast<double>(f) > x ? std::nextafter(f, -std::numeric_limits<float>::infinity()) : f;
}

}  // namespace hark
