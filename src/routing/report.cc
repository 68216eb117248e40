#include "routing/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/json_writer.h"

namespace switchyard::routing {
namespace {

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string PctOrDash(const std::optional<double>& v) {
  return v ? Format("%.1f%%", *v * 100) : std::string("not reached");
}

void AppendMetricsRow(std::string& out, const char* name, const RouterMetrics& m) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-8s %6.3f %12s %12s %12s\n", name, m.apgr,
                PctOrDash(m.cpt20).c_str(), PctOrDash(m.cpt50).c_str(), PctOrDash(m.cpt80).c_str());
  out += buf;
}

void WriteMetricsJson(core::JsonWriter& w, const RouterMetrics& m, bool with_thresholds) {
  w.BeginObject();
  w.Field("apgr", m.apgr);
  for (auto [key, v] :
       {std::pair{"cpt20", m.cpt20}, std::pair{"cpt50", m.cpt50}, std::pair{"cpt80", m.cpt80}}) {
    w.Key(key);
    if (v) {
      w.Double(*v);
    } else {
      w.Null();
    }
  }
  w.Key("curve").BeginArray();
  for (const auto& p : m.curve) {
    w.BeginObject();
    if (with_thresholds && std::isfinite(p.threshold)) {
      w.Field("threshold", p.threshold);
    } else {
      w.Key("threshold").Null();
    }
    w.Field("strong_fraction", p.strong_fraction);
    w.Field("accuracy", p.accuracy);
    w.Field("pgr", p.pgr);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
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

std::string RenderReportText(const EvalReport& r) {
  std::string out;
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s%s%zu rows; weak-only accuracy %.4f, strong-only %.4f\n\n",
                r.title.c_str(), r.title.empty() ? "" : ": ", r.router.rows, r.router.weak_accuracy,
                r.router.strong_accuracy);
  out += buf;
  out += "   threshold  strong calls  accuracy     PGR\n";
  for (const auto& p : r.router.curve) {
    std::snprintf(buf, sizeof buf, "%12.6g  %11.1f%%  %8.4f  %6.3f\n", p.threshold,
                  p.strong_fraction * 100, p.accuracy, p.pgr);
    out += buf;
  }
  out += "\n           APGR     CPT(20%)     CPT(50%)     CPT(80%)\n";
  AppendMetricsRow(out, "router", r.router);
  AppendMetricsRow(out, "random", r.random);
  AppendMetricsRow(out, "oracle", r.oracle);
  return out;
}

std::string RenderReportJson(const EvalReport& r) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("title", r.title);
  w.Field("rows", static_cast<int64_t>(r.router.rows));
  w.Field("weak_accuracy", r.router.weak_accuracy);
  w.Field("strong_accuracy", r.router.strong_accuracy);
  w.Key("router");
  WriteMetricsJson(w, r.router, true);
  w.Key("random");
  WriteMetricsJson(w, r.random, false);
  w.Key("oracle");
  WriteMetricsJson(w, r.oracle, false);
  w.EndObject();
  return out;
}

std::string RenderCostQualitySvg(const EvalReport& r) {
  constexpr double kWidth = 760, kHeight = 500;
  constexpr double kLeft = 80, kRight = 200, kTop = 56, kBottom = 64;
  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  const double weak = r.router.weak_accuracy;
  const double strong = r.router.strong_accuracy;

  // Y range: every plotted accuracy, padded, snapped to 5-point ticks.
  double lo = std::min(weak, strong), hi = std::max(weak, strong);
  for (const auto* m : {&r.router, &r.oracle, &r.random}) {
    for (const auto& p : m->curve) {
      lo = std::min(lo, p.accuracy);
      hi = std::max(hi, p.accuracy);
    }
  }
  double step = 0.05;
  if (hi - lo > 0.5) step = 0.1;
  if (hi - lo < 0.1) step = 0.02;
  lo = std::max(0.0, std::floor((lo - step / 2) / step) * step);
  hi = std::min(1.0, std::ceil((hi + step / 2) / step) * step);
  if (hi <= lo) hi = lo + step;

  auto x_of = [&](double f) { return kLeft + f * plot_w; };
  auto y_of = [&](double a) { return kTop + (hi - a) / (hi - lo) * plot_h; };
  auto pt = [&](double f, double a) {
    return Format("%.1f", x_of(f)) + "," + Format("%.1f", y_of(a));
  };

  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Format("%.0f", kWidth) +
       "\" height=\"" + Format("%.0f", kHeight) + "\" viewBox=\"0 0 " + Format("%.0f", kWidth) +
       " " + Format("%.0f", kHeight) +
       "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  const std::string title = "Cost and quality" + (r.title.empty() ? "" : " — " + r.title);
  s += "<text x=\"" + Format("%.0f", kLeft) + "\" y=\"24\" font-size=\"16\" font-weight=\"bold\">" +
       XmlEscape(title) + "</text>\n";
  char sub[200];
  std::snprintf(sub, sizeof sub, "%zu queries · APGR %.3f · CPT(50%%) %s", r.router.rows,
                r.router.apgr, PctOrDash(r.router.cpt50).c_str());
  s += "<text x=\"" + Format("%.0f", kLeft) + "\" y=\"42\" fill=\"#444\">" + XmlEscape(sub) +
       "</text>\n";

  // Grid and ticks.
  s += "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n";
  for (int i = 0; i <= 10; ++i) {
    const double x = x_of(i / 10.0);
    s += "<line x1=\"" + Format("%.1f", x) + "\" y1=\"" + Format("%.1f", kTop) + "\" x2=\"" +
         Format("%.1f", x) + "\" y2=\"" + Format("%.1f", kTop + plot_h) + "\"/>\n";
  }
  const int y_ticks = static_cast<int>(std::lround((hi - lo) / step));
  for (int i = 0; i <= y_ticks; ++i) {
    const double y = y_of(lo + i * step);
    s += "<line x1=\"" + Format("%.1f", kLeft) + "\" y1=\"" + Format("%.1f", y) + "\" x2=\"" +
         Format("%.1f", kLeft + plot_w) + "\" y2=\"" + Format("%.1f", y) + "\"/>\n";
  }
  s += "</g>\n<g fill=\"#333\">\n";
  for (int i = 0; i <= 10; ++i) {
    s += "<text x=\"" + Format("%.1f", x_of(i / 10.0)) + "\" y=\"" +
         Format("%.1f", kTop + plot_h + 18) + "\" text-anchor=\"middle\">" +
         std::to_string(i * 10) + "%</text>\n";
  }
  for (int i = 0; i <= y_ticks; ++i) {
    const double a = lo + i * step;
    s += "<text x=\"" + Format("%.1f", kLeft - 8) + "\" y=\"" + Format("%.1f", y_of(a) + 4) +
         "\" text-anchor=\"end\">" + Format("%.0f", a * 100) + "%</text>\n";
  }
  s += "</g>\n";
  s += "<rect x=\"" + Format("%.1f", kLeft) + "\" y=\"" + Format("%.1f", kTop) + "\" width=\"" +
       Format("%.1f", plot_w) + "\" height=\"" + Format("%.1f", plot_h) +
       "\" fill=\"none\" stroke=\"#333\"/>\n";
  s += "<text x=\"" + Format("%.1f", kLeft + plot_w / 2) + "\" y=\"" +
       Format("%.1f", kHeight - 18) +
       "\" text-anchor=\"middle\" font-size=\"13\">Calls to the strong model (% of "
       "queries)</text>\n";
  s += "<text transform=\"translate(22," + Format("%.1f", kTop + plot_h / 2) +
       ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">Accuracy</text>\n";

  // Reference lines: weak-only and strong-only.
  auto hline = [&](double a, const char* color, const char* dash) {
    s += "<line x1=\"" + Format("%.1f", kLeft) + "\" y1=\"" + Format("%.1f", y_of(a)) + "\" x2=\"" +
         Format("%.1f", kLeft + plot_w) + "\" y2=\"" + Format("%.1f", y_of(a)) + "\" stroke=\"" +
         color + "\" stroke-width=\"1.5\" stroke-dasharray=\"" + dash + "\"/>\n";
  };
  hline(weak, "#777", "6 4");
  hline(strong, "#c0392b", "6 4");
  // Random router: the diagonal from weak-only to strong-only.
  s += "<polyline fill=\"none\" stroke=\"#999\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\" "
       "points=\"" +
       pt(0, weak) + " " + pt(1, strong) + "\"/>\n";
  // Oracle.
  std::string oracle_pts;
  for (const auto& p : r.oracle.curve) oracle_pts += pt(p.strong_fraction, p.accuracy) + " ";
  s += "<polyline fill=\"none\" stroke=\"#27ae60\" stroke-width=\"1.5\" stroke-dasharray=\"8 3\" "
       "points=\"" +
       oracle_pts + "\"/>\n";
  // Router curve with markers.
  std::string router_pts;
  for (const auto& p : r.router.curve) router_pts += pt(p.strong_fraction, p.accuracy) + " ";
  s += "<polyline fill=\"none\" stroke=\"#2463eb\" stroke-width=\"2.5\" points=\"" + router_pts +
       "\"/>\n<g fill=\"#2463eb\">\n";
  for (const auto& p : r.router.curve) {
    s += "<circle cx=\"" + Format("%.1f", x_of(p.strong_fraction)) + "\" cy=\"" +
         Format("%.1f", y_of(p.accuracy)) + "\" r=\"3.5\"/>\n";
  }
  s += "</g>\n";
  // CPT(50%): where the router first recovers half the gap.
  if (r.router.cpt50) {
    const double f = *r.router.cpt50;
    const double a = weak + 0.5 * (strong - weak);
    s += "<line x1=\"" + Format("%.1f", x_of(f)) + "\" y1=\"" + Format("%.1f", y_of(a)) +
         "\" x2=\"" + Format("%.1f", x_of(f)) + "\" y2=\"" + Format("%.1f", kTop + plot_h) +
         "\" stroke=\"#2463eb\" stroke-width=\"1\" stroke-dasharray=\"3 3\"/>\n";
    s += "<line x1=\"" + Format("%.1f", kLeft) + "\" y1=\"" + Format("%.1f", y_of(a)) + "\" x2=\"" +
         Format("%.1f", x_of(f)) + "\" y2=\"" + Format("%.1f", y_of(a)) +
         "\" stroke=\"#2463eb\" stroke-width=\"1\" stroke-dasharray=\"3 3\"/>\n";
    s += "<circle cx=\"" + Format("%.1f", x_of(f)) + "\" cy=\"" + Format("%.1f", y_of(a)) +
         "\" r=\"6\" fill=\"none\" stroke=\"#2463eb\" stroke-width=\"2\"/>\n";
    s += "<text x=\"" + Format("%.1f", x_of(f) + 10) + "\" y=\"" + Format("%.1f", y_of(a) + 18) +
         "\" fill=\"#2463eb\">CPT(50%) = " + Format("%.1f", f * 100) + "%</text>\n";
  }
  // Legend.
  const double lx = kLeft + plot_w + 16;
  double ly = kTop + 8;
  auto legend = [&](const char* color, const char* dash, double width, const std::string& label) {
    s += "<line x1=\"" + Format("%.1f", lx) + "\" y1=\"" + Format("%.1f", ly) + "\" x2=\"" +
         Format("%.1f", lx + 28) + "\" y2=\"" + Format("%.1f", ly) + "\" stroke=\"" + color +
         "\" stroke-width=\"" + Format("%.1f", width) + "\"" +
         (dash[0] ? std::string(" stroke-dasharray=\"") + dash + "\"" : std::string()) + "/>\n";
    s += "<text x=\"" + Format("%.1f", lx + 36) + "\" y=\"" + Format("%.1f", ly + 4) + "\">" +
         XmlEscape(label) + "</text>\n";
    ly += 22;
  };
  legend("#2463eb", "", 2.5, "router (APGR " + Format("%.3f", r.router.apgr) + ")");
  legend("#999", "2 3", 1.5, "random (expected APGR 0.5)");
  legend("#27ae60", "8 3", 1.5, "oracle (APGR " + Format("%.3f", r.oracle.apgr) + ")");
  legend("#c0392b", "6 4", 1.5, "strong only " + Format("%.1f%%", strong * 100));
  legend("#777", "6 4", 1.5, "weak only " + Format("%.1f%%", weak * 100));
  s += "</svg>\n";
  return s;
}

}  // namespace switchyard::routing
