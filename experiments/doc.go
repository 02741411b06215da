// Package experiments turns an experiment file into results: TOML spec →
// validation → sweep points → replications on a worker pool → streaming
// aggregation → Result, and writes Results as CSV and JSON.
//
// Contract:
//   - Load/Parse decode strictly: unknown keys, bad units and inconsistent
//     values are reported all at once as a *SpecError whose problems name the
//     file, line and key. Nothing is written for a bad spec.
//   - Every replication's seed is ReplicationSeed(experiment seed, point,
//     replication), so a Result is byte-identical whatever the worker count,
//     and any replication can be replayed alone (hbsim trace FILE --point P
//     --replication R).
//   - Aggregation streams: replications are folded into per-point counters in
//     replication order as they complete; memory does not grow with the
//     replication count.
//   - Confidence intervals are 95 %: Wilson (Clopper–Pearson at 0 or n) for
//     proportions, exact Poisson for rates, Student t for means, all from
//     gonum quantiles.
//   - WriteFiles writes every output atomically (temporary file, then rename).
//   - A run can keep a checkpoint of completed replications (one small
//     checksummed record each) and resume from it, and can be split into
//     shards whose records Merge folds into exactly the unsharded Result. An
//     interrupted or failed run returns what completed, marked Partial.
//   - Beside plain runs: RunRare (conditioning + importance sampling for rare
//     expiries), Recommend (the smallest timeout meeting a target), presets
//     (named fault profiles for [[fault]] preset = "..."), BuildTimeline (one
//     run read from its trace, for drawing).
package experiments
