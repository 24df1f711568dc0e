// YUV colour models (BT.601 / BT.709, full / limited range) and the NV12 encoder.
#include <cmath>

#include "internal.h"

namespace segk {

namespace {
struct Matrix {
  double kr, kb;
};
Matrix matrixOf(Color color) { return color.bt709 ? Matrix{0.2126, 0.0722} : Matrix{0.299, 0.114}; }
int16_t fixed13(double v) { return (int16_t)std::lround(v * 8192.0); }
uint8_t roundClamp(double v) {
  const double r = std::floor(v + 0.5);
  return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}
}  // namespace

YuvCoeffs yuvCoeffs(Color color) {
  const Matrix m = matrixOf(color);
  const double kg = 1.0 - m.kr - m.kb;
  const double yGain = color.full ? 1.0 : 255.0 / 219.0;
  const double cGain = color.full ? 1.0 : 255.0 / 224.0;
  YuvCoeffs k;
  k.yOffset = color.full ? 0 : 16;
  k.cY = fixed13(yGain);
  k.cRV = fixed13(2.0 * (1.0 - m.kr) * cGain);
  k.cBU = fixed13(2.0 * (1.0 - m.kb) * cGain);
  k.cGU = fixed13(-2.0 * m.kb * (1.0 - m.kb) / kg * cGain);
  k.cGV = fixed13(-2.0 * m.kr * (1.0 - m.kr) / kg * cGain);
  return k;
}

void rgbToYuvDouble(Color color, double r, double g, double b, double* y, double* u, double* v) {
  const Matrix m = matrixOf(color);
  const double kg = 1.0 - m.kr - m.kb;
  const double luma = m.kr * r + kg * g + m.kb * b;
  const double cb = (b - luma) / (2.0 * (1.0 - m.kb));
  const double cr = (r - luma) / (2.0 * (1.0 - m.kr));
  if (color.full) {
    *y = luma;
    *u = 128.0 + cb;
    *v = 128.0 + cr;
  } else {
    *y = 16.0 + luma * (219.0 / 255.0);
    *u = 128.0 + cb * (224.0 / 255.0);
    *v = 128.0 + cr * (224.0 / 255.0);
  }
}

void rgbToNv12(const RgbView& in, Color color, const Nv12Mut& out) {
  const int w = in.width, h = in.height;
  for (int yy = 0; yy < h; ++yy) {
    const uint8_t* s = in.data + (size_t)yy * in.stride;
    uint8_t* d = out.data + (size_t)yy * out.strideY;
    for (int x = 0; x < w; ++x) {
      double Y, U, V;
      rgbToYuvDouble(color, s[3 * x], s[3 * x + 1], s[3 * x + 2], &Y, &U, &V);
      d[x] = roundClamp(Y);
    }
  }
  for (int j = 0; j < h / 2; ++j) {
    const uint8_t* s0 = in.data + (size_t)(2 * j) * in.stride;
    const uint8_t* s1 = s0 + in.stride;
    uint8_t* d = out.data + out.offsetUV + (size_t)j * out.strideUV;
    for (int i = 0; i < w / 2; ++i) {
      const int o = 6 * i;
      // Average the 2x2 block in RGB (the matrix is linear, so this equals averaging U and V).
      const double r = (s0[o] + s0[o + 3] + s1[o] + s1[o + 3]) / 4.0;
      const double g = (s0[o + 1] + s0[o + 4] + s1[o + 1] + s1[o + 4]) / 4.0;
      const double b = (s0[o + 2] + s0[o + 5] + s1[o + 2] + s1[o + 5]) / 4.0;
      double Y, U, V;
      rgbToYuvDouble(color, r, g, b, &Y, &U, &V);
      d[2 * i] = roundClamp(U);
      d[2 * i + 1] = roundClamp(V);
    }
  }
}

}  // namespace segk
