// Package zklog writes a simulated run in the words real systems log it
// in: each client's ZooKeeper Java client log, each server's ZooKeeper
// server log, and each paused client's JVM GC log.
//
// Contract:
//   - Writer is a model.Tracer: it reads the model's trace vocabulary
//     (model.Vocabulary) and turns the events a ZooKeeper process logs at
//     INFO and WARN into log4j lines with ZooKeeper's own wording (3.4, 3.8
//     or 3.9.3+, from ClientCnxn.java and ZooKeeperServer.java), and every
//     client pause into a JVM unified-logging GC pause line. Events no
//     real log shows (pings, touches, lost packets) leave no line.
//   - Timestamps are the run's virtual time from a fixed epoch, in whole
//     milliseconds as Java's clock has them: the same run gives the same
//     bytes.
//   - Files returns the logs, one file per process, sorted by name; the
//     package does no file I/O.
//   - Its purpose is to test package fit end to end on logs whose true
//     outage and pause laws are known (hbsim trace --zk-log).
package zklog
