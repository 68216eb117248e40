# Turns the raw samples that bench/proxy/run.sh collected (one TSV file) into
# the Markdown tables of the proxy benchmark. POSIX awk (mawk is enough).
#
#   awk -v targets=direct,nginx,switchyard,portkey -v history_file=FILE \
#       -v history_prefix="| date | rev " -f report.awk samples.tsv
#
# Input lines (tab-separated):
#   cell  target mode conns delay_ms rep rps p50_us p99_us p999_us cpu_us_per_req requests errors
#         (a run with 0 requests has no latency; its latency fields are ignored)
#   ttfb  target rep first_byte_us first_data_us total_us errors
#   rss   target idle_kb peak_kb
# Every figure is the median over the repetitions; errors and requests are sums.
# Ratios are against nginx in the same run; "added" is against the upstream
# measured directly in the same run.

BEGIN {
  FS = "\t"
  nt = split(targets, T, ",")
  nc = 0
}

$1 == "cell" {
  key = $3 SUBSEP $4 SUBSEP $5
  if (!(key in seen)) { seen[key] = 1; cells[++nc] = key }
  k = key SUBSEP $2
  i = ++cn[k]
  v_rps[k, i] = $7; v_cpu[k, i] = $11
  reqs[k] += $12; errs[k] += $13
  # A run that completed no request has no latency: leave it out of the medians.
  if ($12 > 0) { j = ++ln[k]; v_p50[k, j] = $8; v_p99[k, j] = $9; v_p999[k, j] = $10 }
  next
}
$1 == "ttfb" {
  k = $2; i = ++tn[k]
  v_fb[k, i] = $4; v_fd[k, i] = $5; v_tot[k, i] = $6; terr[k] += $7
  next
}
$1 == "rss" { idle[$2] = $3; peak[$2] = $4; next }

# Median of arr[k, 1..n].
function median(arr, k, n,    i, j, x, tmp) {
  if (n == 0) return ""
  for (i = 1; i <= n; i++) tmp[i] = arr[k, i] + 0
  for (i = 2; i <= n; i++) {
    x = tmp[i]
    for (j = i - 1; j >= 1 && tmp[j] > x; j--) tmp[j + 1] = tmp[j]
    tmp[j + 1] = x
  }
  if (n % 2) return tmp[(n + 1) / 2]
  return (tmp[n / 2] + tmp[n / 2 + 1]) / 2
}

function has(k) { return (k in cn) && cn[k] > 0 }
function ms(us) { return (us == "") ? "—" : sprintf("%.3f", us / 1000) }
function signed_ms(us) { return (us == "") ? "—" : sprintf("%+.3f", us / 1000) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 <= 0) ? "—" : sprintf("%.2f×", a / b) }
function mb(kb) { return (kb == "") ? "—" : sprintf("%.1f", kb / 1024) }
function verdict(ok) { return ok ? "met" : "**not met**" }

# Median of one metric of one target in one cell; "" if absent.
function cell_stat(metric, cell, target,    k) {
  k = cell SUBSEP target
  if (!has(k)) return ""
  if (metric == "rps") return median(v_rps, k, cn[k])
  if (metric == "p50") return median(v_p50, k, ln[k])
  if (metric == "p99") return median(v_p99, k, ln[k])
  if (metric == "p999") return median(v_p999, k, ln[k])
  if (metric == "cpu") return median(v_cpu, k, cn[k])
  return ""
}

function added(metric, cell, target,    a, d) {
  a = cell_stat(metric, cell, target); d = cell_stat(metric, cell, "direct")
  if (a == "" || d == "") return ""
  return a - d
}

function ttfb(target) { return (target in tn) ? median(v_fb, target, tn[target]) : "" }

# One line of the targets table comparing a Switchyard figure with a bound.
function target_row(what, measured, ok, known) {
  printf "| %s | %s | %s |\n", what, measured, known ? verdict(ok) : "n/a (not measured)"
}

END {
  split("", label)
  label["direct"] = "direct (no proxy)"
  label["nginx"] = "nginx"
  label["switchyard"] = "Switchyard"
  label["portkey"] = "Portkey"

  # --- Targets of issue 4, Switchyard against them -------------------------------
  j32 = "json" SUBSEP "32" SUBSEP "0"
  s32 = "sse" SUBSEP "32" SUBSEP "0"
  j50 = "json" SUBSEP "256" SUBSEP "50"
  s50 = "sse" SUBSEP "256" SUBSEP "50"
  print "#### Targets (issue 4; 32 connections unless stated)"
  print ""
  print "| Target | Switchyard, measured | Verdict |"
  print "| --- | --- | --- |"
  for (b = 1; b <= 2; b++) {
    c = (b == 1) ? j32 : s32; name = (b == 1) ? "JSON" : "SSE"
    sy = cell_stat("rps", c, "switchyard"); ng = cell_stat("rps", c, "nginx")
    target_row("Throughput ≥ 0.9× nginx (" name ")", ratio(sy, ng) " (" sprintf("%.0f", sy) " vs " sprintf("%.0f", ng) " req/s)", sy >= 0.9 * ng, sy != "" && ng != "")
  }
  for (b = 1; b <= 2; b++) {
    c = (b == 1) ? j32 : s32; name = (b == 1) ? "JSON" : "SSE"
    sy = cell_stat("rps", c, "switchyard"); pk = cell_stat("rps", c, "portkey")
    target_row("Throughput ≥ 20× Portkey (" name ")", ratio(sy, pk) " (" sprintf("%.0f", sy) " vs " sprintf("%.0f", pk) " req/s)", pk != "" && sy >= 20 * pk, sy != "" && pk != "")
  }
  for (b = 1; b <= 4; b++) {
    c = (b % 2) ? j32 : s32; name = (b % 2) ? "JSON" : "SSE"; m = (b <= 2) ? "p50" : "p99"
    asy = added(m, c, "switchyard"); ang = added(m, c, "nginx")
    known = asy != "" && ang != ""
    shown = known ? sprintf("%s ms vs nginx %s ms (%s)", signed_ms(asy), signed_ms(ang), ang > 0 ? sprintf("%.2f×", asy / ang) : "nginx adds nothing") : "—"
    target_row("Added " m " ≤ 1.5× nginx's added " m " (" name ")", shown, asy <= 1.5 * ang || asy <= 0, known)
  }
  tsy = ttfb("switchyard"); tdi = ttfb("direct")
  known = tsy != "" && tdi != ""
  target_row("Added time to first streamed byte ≤ 0.3 ms", known ? signed_ms(tsy - tdi) " ms" : "—", (tsy - tdi) <= 300, known)
  for (b = 1; b <= 2; b++) {
    c = (b == 1) ? j32 : s32; name = (b == 1) ? "JSON" : "SSE"
    sy = cell_stat("cpu", c, "switchyard"); ng = cell_stat("cpu", c, "nginx")
    target_row("CPU per request ≤ 1.5× nginx (" name ")", ratio(sy, ng) sprintf(" (%.1f vs %.1f µs)", sy, ng), sy <= 1.5 * ng, sy != "" && ng != "")
  }
  known = ("switchyard" in idle)
  target_row("RSS ≤ 30 MB idle", known ? mb(idle["switchyard"]) " MB" : "—", idle["switchyard"] <= 30 * 1024, known)
  known = ("switchyard" in peak)
  target_row("RSS ≤ 80 MB at 256 connections (peak over the run)", known ? mb(peak["switchyard"]) " MB" : "—", peak["switchyard"] <= 80 * 1024, known)
  for (b = 1; b <= 2; b++) {
    c = (b == 1) ? j50 : s50; name = (b == 1) ? "JSON" : "SSE"
    sy = cell_stat("p99", c, "switchyard"); di = cell_stat("p99", c, "direct")
    e = has(c SUBSEP "switchyard") ? errs[c SUBSEP "switchyard"] : ""
    known = sy != "" && di != ""
    shown = known ? sprintf("p99 %s ms vs direct %s ms (%+.1f%%), %d errors", ms(sy), ms(di), (sy / di - 1) * 100, e) : "—"
    target_row("50 ms upstream, 256 connections: no errors, p99 within 10% of direct (" name ")", shown, e == 0 && sy <= 1.1 * di, known)
  }
  print "| RSS flat over a 10-minute run | see the soak below (`run.sh --soak 600`) | — |"
  print ""

  # --- Every cell -----------------------------------------------------------------
  print "#### Throughput, latency and CPU (medians)"
  print ""
  print "| Body | Conns | Upstream delay | Target | req/s | ×nginx | p50 ms | p99 ms | p99.9 ms | added p50 ms | added p99 ms | CPU µs/req | CPU ×nginx | errors |"
  print "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for (ci = 1; ci <= nc; ci++) {
    split(cells[ci], part, SUBSEP)
    for (ti = 1; ti <= nt; ti++) {
      t = T[ti]; k = cells[ci] SUBSEP t
      if (!has(k)) continue
      rps = cell_stat("rps", cells[ci], t); nrps = cell_stat("rps", cells[ci], "nginx")
      cpu = cell_stat("cpu", cells[ci], t); ncpu = cell_stat("cpu", cells[ci], "nginx")
      a50 = (t == "direct") ? "" : added("p50", cells[ci], t)
      a99 = (t == "direct") ? "" : added("p99", cells[ci], t)
      printf "| %s | %d | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %.1f | %s | %d |\n",
        toupper(part[1]), part[2], (part[3] + 0 > 0) ? part[3] " ms" : "0", label[t], rps,
        ratio(rps, nrps), ms(cell_stat("p50", cells[ci], t)), ms(cell_stat("p99", cells[ci], t)),
        ms(cell_stat("p999", cells[ci], t)), signed_ms(a50), signed_ms(a99), cpu,
        (t == "direct") ? "—" : ratio(cpu, ncpu), errs[k]
    }
  }
  print ""
  print "CPU µs/req is the target process's user+system time (all its threads and processes)"
  print "divided by the requests wrk completed; for \"direct\" it is the upstream's own cost."
  print ""

  # --- Time to first streamed byte ------------------------------------------------
  print "#### Time to first streamed byte (medians)"
  print ""
  print "| Target | first byte ms | added over direct ms | whole stream ms | errors |"
  print "| --- | ---: | ---: | ---: | ---: |"
  for (ti = 1; ti <= nt; ti++) {
    t = T[ti]
    if (!(t in tn)) continue
    fb = ttfb(t); tot = median(v_tot, t, tn[t])
    printf "| %s | %s | %s | %s | %d |\n", label[t], ms(fb),
      (t == "direct" || tdi == "") ? "—" : signed_ms(fb - tdi), ms(tot), terr[t]
  }
  print ""

  # --- Memory ---------------------------------------------------------------------
  print "#### Memory"
  print ""
  print "| Target | idle RSS MB | peak RSS MB (whole run) | ×nginx (peak) |"
  print "| --- | ---: | ---: | ---: |"
  for (ti = 1; ti <= nt; ti++) {
    t = T[ti]
    if (!(t in idle)) continue
    printf "| %s | %s | %s | %s |\n", label[t], mb(idle[t]), mb(peak[t]),
      (t == "direct") ? "—" : ratio(peak[t], peak["nginx"])
  }
  print ""

  # --- One history row --------------------------------------------------------------
  if (history_file != "") {
    printf "%s| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", history_prefix,
      ratio(cell_stat("rps", j32, "switchyard"), cell_stat("rps", j32, "nginx")),
      ratio(cell_stat("rps", s32, "switchyard"), cell_stat("rps", s32, "nginx")),
      ratio(added("p50", j32, "switchyard"), added("p50", j32, "nginx")),
      ratio(added("p99", j32, "switchyard"), added("p99", j32, "nginx")),
      ratio(cell_stat("cpu", j32, "switchyard"), cell_stat("cpu", j32, "nginx")),
      (tsy != "" && tdi != "") ? signed_ms(tsy - tdi) : "—",
      mb(idle["switchyard"]), mb(peak["switchyard"]),
      ratio(cell_stat("rps", j32, "switchyard"), cell_stat("rps", j32, "portkey")) > history_file
  }
}
