// Package fit reads observations of outages and pauses and fits duration
// laws to them: the step from a capacity planner's own logs to the
// [[fault]] law an experiment file needs.
//
// Contract:
//   - Readers take a file's name and bytes and return observations or an
//     error naming the file and the line ("app.log:17: ..."): CSV of
//     durations (ReadDurationsCSV is the format of the empirical law, with
//     an optional second column of start times), ZooKeeper Java client logs
//     (3.4 to 3.9 wording) and JVM garbage-collection logs (unified logging
//     "Pause ... N ms", and "Total time for which application threads were
//     stopped: N seconds"). Read detects which one a file is.
//   - A ZooKeeper disconnection is not an outage: the client notices only
//     outages that outlast what is left of its read timeout, and dates
//     their end only through its reconnection. The reader turns each
//     disconnection into what it shows of the outage (Episode), and Fit
//     maximises the likelihood of exactly that, never of the raw
//     disconnection times.
//   - Fit compares exponential, lognormal, Weibull and Pareto laws fitted by
//     maximum likelihood (gonum optimize where there is no closed form),
//     and the empirical law, by AIC and a Kolmogorov–Smirnov distance, with
//     95 % intervals for every parameter and for the arrival rate.
//   - Results are deterministic: the same input gives the same numbers.
//   - The package does no file I/O and needs nothing of the simulator.
package fit
