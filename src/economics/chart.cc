#include "economics/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "economics/crossover.h"

namespace switchyard::economics {
namespace {

constexpr double kLeft = 84, kRight = 24, kTop = 48, kBottom = 64;
constexpr const char* kApiColor = "#0072B2";         // blue
constexpr const char* kSelfHostedColor = "#D55E00";  // vermillion
constexpr const char* kCurrentColor = "#009E73";     // bluish green

// The smallest 1 / 2 / 2.5 / 5 x 10^k at or above v.
double NiceCeil(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * p >= v * (1 - 1e-12)) return m * p;
  }
  return 10 * p;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

std::string Short(double v, const char* prefix) {
  char buf[32];
  const double a = std::fabs(v);
  if (a >= 1e9) {
    std::snprintf(buf, sizeof(buf), "%s%gB", prefix, v / 1e9);
  } else if (a >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%s%gM", prefix, v / 1e6);
  } else if (a >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%s%gk", prefix, v / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%s%g", prefix, v);
  }
  return buf;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string RenderCrossoverSvg(const CrossoverChart& chart) {
  const SelfHostingAssumptions& a = chart.assumptions;
  const Crossover c = ComputeCrossover(chart.api_cost_per_request, chart.shape, a);
  const double tokens_per_request =
      static_cast<double>(std::max<int64_t>(1, chart.shape.total_tokens()));
  const double capacity_tokens = c.replica_tokens_per_day;  // per replica
  const double current_tokens =
      chart.current_requests_per_day ? *chart.current_requests_per_day * tokens_per_request : 0;

  double x_max = chart.max_tokens_per_day;
  if (!(x_max > 0)) {
    x_max = std::max(
        {3 * capacity_tokens, c.never ? 0.0 : 2 * c.tokens_per_day, 1.25 * current_tokens});
    x_max = NiceCeil(x_max);
  }
  auto api_monthly = [&](double tokens) {
    return tokens / tokens_per_request * chart.api_cost_per_request * kDaysPerMonth;
  };
  auto self_monthly = [&](double tokens) {
    const double output =
        tokens / tokens_per_request * static_cast<double>(chart.shape.output_tokens);
    return SelfHostedCostPerDay(a, output).total_usd * kDaysPerMonth;
  };
  const double y_max = NiceCeil(1.1 * std::max(api_monthly(x_max), self_monthly(x_max)));

  const double w = chart.width, h = chart.height;
  const double plot_w = w - kLeft - kRight, plot_h = h - kTop - kBottom;
  auto px = [&](double tokens) { return kLeft + tokens / x_max * plot_w; };
  auto py = [&](double usd) { return kTop + plot_h - std::min(usd, y_max) / y_max * plot_h; };

  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(w) + "\" height=\"" + Num(h) +
       "\" viewBox=\"0 0 " + Num(w) + " " + Num(h) +
       "\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n";
  s += "<title>" + Escape(chart.title) + "</title>\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  s += "<text x=\"" + Num(kLeft) + "\" y=\"24\" font-size=\"15\" font-weight=\"bold\">" +
       Escape(chart.title) + "</text>\n";

  // Grid and axes.
  s += "<g id=\"axes\" stroke=\"#cccccc\" stroke-width=\"1\">\n";
  for (int i = 0; i <= 5; ++i) {
    const double xv = x_max * i / 5, yv = y_max * i / 5;
    s += "<line x1=\"" + Num(px(xv)) + "\" y1=\"" + Num(kTop) + "\" x2=\"" + Num(px(xv)) +
         "\" y2=\"" + Num(kTop + plot_h) + "\"/>\n";
    s += "<line x1=\"" + Num(kLeft) + "\" y1=\"" + Num(py(yv)) + "\" x2=\"" + Num(kLeft + plot_w) +
         "\" y2=\"" + Num(py(yv)) + "\"/>\n";
  }
  s += "</g>\n<g id=\"ticks\" fill=\"#333333\">\n";
  for (int i = 0; i <= 5; ++i) {
    const double xv = x_max * i / 5, yv = y_max * i / 5;
    s += "<text x=\"" + Num(px(xv)) + "\" y=\"" + Num(kTop + plot_h + 18) +
         "\" text-anchor=\"middle\">" + Short(xv, "") + "</text>\n";
    s += "<text x=\"" + Num(kLeft - 8) + "\" y=\"" + Num(py(yv) + 4) + "\" text-anchor=\"end\">" +
         Short(yv, "$") + "</text>\n";
  }
  s += "<text x=\"" + Num(kLeft + plot_w / 2) + "\" y=\"" + Num(h - 16) +
       "\" text-anchor=\"middle\">tokens per day (input + output)</text>\n";
  s += "<text transform=\"translate(18 " + Num(kTop + plot_h / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">USD per month</text>\n";
  s += "</g>\n";

  // API: a straight line from the origin.
  s += "<polyline id=\"api-line\" fill=\"none\" stroke=\"" + std::string(kApiColor) +
       "\" stroke-width=\"2.5\" points=\"" + Num(px(0)) + "," + Num(py(0)) + " " + Num(px(x_max)) +
       "," + Num(py(api_monthly(x_max))) + "\"/>\n";

  // Self-hosted: one step per added replica.
  std::string points;
  double x = 0;
  int64_t replicas = 1;
  const double fixed = FixedDailyCost(a), gpu = GpuDailyCost(a);
  while (x < x_max && replicas <= 10000) {
    const double level = (static_cast<double>(replicas) * gpu + fixed) * kDaysPerMonth;
    const double next = capacity_tokens > 0
                            ? std::min(x_max, capacity_tokens * static_cast<double>(replicas))
                            : x_max;
    points += Num(px(x)) + "," + Num(py(level)) + " " + Num(px(next)) + "," + Num(py(level)) + " ";
    x = next;
    ++replicas;
  }
  if (!points.empty()) points.pop_back();
  s += "<polyline id=\"self-hosted-line\" fill=\"none\" stroke=\"" + std::string(kSelfHostedColor) +
       "\" stroke-width=\"2.5\" points=\"" + points + "\"/>\n";

  // Markers.
  if (!c.never && c.tokens_per_day <= x_max) {
    const double cx = px(c.tokens_per_day), cy = py(api_monthly(c.tokens_per_day));
    s += "<g id=\"crossover-marker\">\n";
    s += "<line x1=\"" + Num(cx) + "\" y1=\"" + Num(kTop) + "\" x2=\"" + Num(cx) + "\" y2=\"" +
         Num(kTop + plot_h) + "\" stroke=\"#000000\" stroke-dasharray=\"5 4\"/>\n";
    s += "<circle cx=\"" + Num(cx) + "\" cy=\"" + Num(cy) + "\" r=\"5\" fill=\"#000000\"/>\n";
    s += "<text x=\"" + Num(cx + 6) + "\" y=\"" + Num(kTop + 14) + "\">crossover " +
         Escape(FormatTokens(c.tokens_per_day)) + " tokens/day</text>\n";
    s += "</g>\n";
  }
  if (chart.current_requests_per_day && current_tokens <= x_max) {
    const double cx = px(current_tokens);
    s += "<g id=\"current-marker\">\n";
    s += "<line x1=\"" + Num(cx) + "\" y1=\"" + Num(kTop) + "\" x2=\"" + Num(cx) + "\" y2=\"" +
         Num(kTop + plot_h) + "\" stroke=\"" + kCurrentColor + "\" stroke-width=\"2\"/>\n";
    s += "<text x=\"" + Num(cx + 6) + "\" y=\"" + Num(kTop + 30) + "\" fill=\"" + kCurrentColor +
         "\">current " + Escape(FormatTokens(current_tokens)) + " tokens/day</text>\n";
    s += "</g>\n";
  }

  // Legend.
  // Top left: the API line starts low and the markers' labels sit above it.
  const double lx = kLeft + 12, ly = kTop + 58;
  s += "<g id=\"legend\">\n";
  s += "<rect x=\"" + Num(lx - 6) + "\" y=\"" + Num(ly - 14) +
       "\" width=\"250\" height=\"44\" fill=\"#ffffff\" stroke=\"#cccccc\"/>\n";
  s += "<line x1=\"" + Num(lx) + "\" y1=\"" + Num(ly - 4) + "\" x2=\"" + Num(lx + 24) + "\" y2=\"" +
       Num(ly - 4) + "\" stroke=\"" + kApiColor + "\" stroke-width=\"2.5\"/>\n";
  s += "<text x=\"" + Num(lx + 30) + "\" y=\"" + Num(ly) + "\">API (" +
       Escape(FormatUsd(chart.api_cost_per_request)) + " per request)</text>\n";
  s += "<line x1=\"" + Num(lx) + "\" y1=\"" + Num(ly + 14) + "\" x2=\"" + Num(lx + 24) +
       "\" y2=\"" + Num(ly + 14) + "\" stroke=\"" + kSelfHostedColor +
       "\" stroke-width=\"2.5\"/>\n";
  s += "<text x=\"" + Num(lx + 30) + "\" y=\"" + Num(ly + 18) + "\">self-hosted (" +
       std::to_string(a.gpus) + " GPU" + (a.gpus == 1 ? "" : "s") + " per replica)</text>\n";
  s += "</g>\n";
  s += "</svg>\n";
  return s;
}

}  // namespace switchyard::economics
