// Package plots draws charts of an experiments.Result.
//
// Contract: plain data from package experiments goes in — a Result, a
// Timeline (one run read from its trace), a recommendation — and a
// *plot.Plot or PNG bytes come out. The package holds no simulation logic,
// does no file I/O and never imports model or sim. The same Result
// always gives the same PNG bytes: series follow the sweep's axis order and
// values, never map iteration.
//
// The charts:
//
//   - ExpiryVsTimeout: a metric (default experiments.MetricExpiryPerOutage)
//     against the negotiated session timeout T, one line per combination of
//     the other swept axes, each with its shaded 95 % confidence band.
//   - ExpiryVsOutage: a metric against the outage length, one line and band
//     per session timeout ("T=10s"), with a dashed line at outage length = T.
//     It shows which outages each timeout rides out.
//   - TradeOff: the false-expiry rate against the dead-client detection time,
//     one labelled point per timeout with 95 % error bars both ways.
//   - MassExpiry: P(at least k of N sessions expire in one shared episode)
//     with the binomial law of independent phases overlaid.
//   - Timeline: one run — client states, pings, the server's deadline step
//     line over tick boundaries, faults, numbered decisive events.
//   - the recommend trade-off chart, with the recommended timeout marked.
//
// Charts picks the charts that apply to a Result and renders each to PNG
// bytes of Width x Height; RenderPNG renders one *plot.Plot the same way.
//
// Axis rules:
//
//   - The session-timeout axis is the swept key whose name contains
//     "session_timeout" (any case). The x value is always the negotiated
//     PointResult.SessionTimeoutS, or the axis value when that is not
//     positive.
//   - An outage-length axis is a swept key with a segment containing
//     "duration" after a segment containing "fault" or "outage", the key
//     being split at '.', '[' and ']' (any case; IsOutageKey):
//     "fault.1.duration", "fault[0].duration", "faults.2.duration" and
//     "outage.duration" match; "client.session_timeout" and "duration"
//     alone do not. Charts uses the first such axis in expansion order.
//
// Value rules:
//
//   - A point without the metric, or with a NaN or infinite estimate, is
//     left out; a NaN, infinite or inverted bound is replaced by the
//     estimate. Nothing left to draw gives an error wrapping ErrNoData,
//     never a panic.
//   - The y axis is logarithmic (plot.LogScale) when the positive estimates
//     span more than 1.5 decades. A log axis cannot show zero: values <= 0,
//     and lower bounds more than three decades below the smallest positive
//     estimate, are drawn at a floor one decade below the decade of the
//     smallest other value (so at most a tenth of it). The floor tick reads
//     "0" and the axis label says "0 shown at floor". A linear y axis
//     starts at 0.
//   - A chart draws at most MaxLines lines (one colour each); beyond that
//     it shows MaxLines evenly spread ones and its legend says so.
//
// Layout: 8x5 in, sans-serif text, title naming the experiment, axis labels
// with units, and the legend to the right of the data area, where it never
// hides data.
package plots
