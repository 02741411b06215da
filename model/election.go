package model

import (
	"fmt"
	"time"

	"hbsim/clock"
)

// Role is a voting server's peer state (QuorumPeer.ServerState).
type Role uint8

// Peer states.
const (
	Looking Role = iota
	Following
	Leading
)

var roleNames = [...]string{"LOOKING", "FOLLOWING", "LEADING"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("Role(%d)", r)
}

// Vote is a FastLeaderElection proposal: the server it names as leader,
// with that server's last logged zxid and epoch. Votes are ordered by
// (Epoch, Zxid, Leader): the highest wins (totalOrderPredicate).
type Vote struct {
	Leader int32
	Zxid   int64
	Epoch  int64
}

// Beats reports whether v is a better proposal than o.
func (v Vote) Beats(o Vote) bool {
	if v.Epoch != o.Epoch {
		return v.Epoch > o.Epoch
	}
	if v.Zxid != o.Zxid {
		return v.Zxid > o.Zxid
	}
	return v.Leader > o.Leader
}

func (v Vote) String() string {
	return fmt.Sprintf("(leader=%d zxid=0x%x epoch=%d)", v.Leader, v.Zxid, v.Epoch)
}

// Notification is one election message: the sender's vote, its election
// round (logicalclock) and its peer state.
type Notification struct {
	From  int32
	Vote  Vote
	Round int64
	State Role
}

// ElectionEffectKind says what an ElectionEffect asks the wiring to do.
type ElectionEffectKind uint8

// Election effects.
const (
	// ElectNotify sends the peer's notification to To, or to every other
	// voter when To is -1 (the copy to itself is handled inside).
	ElectNotify ElectionEffectKind = iota + 1
	// ElectWake sets the election's one timer to At (replacing any earlier).
	ElectWake
	// ElectDecided ends the election: the peer is now Role, following Leader.
	ElectDecided
)

// ElectionEffect is one output of an Election.
type ElectionEffect struct {
	Kind ElectionEffectKind
	To   int32
	N    Notification
	At   clock.Time
}

// tally is what a peer last heard from one voter in the current round.
type tally struct {
	ok    bool
	vote  Vote
	round int64
	state Role
}

// Election is FastLeaderElection.lookForLeader and the WorkerReceiver's
// replies of one voting server (zk-semantics §2.8), as a pure state machine:
// inputs are notifications and the timer, outputs are notifications to send,
// the timer to set and the decision.
//
// While LOOKING, the peer proposes the best vote it has seen and sends it to
// every voter; when a quorum of the current round's votes agrees with its
// proposal it waits finalizeWait for a better vote and then decides (LEADING
// if the vote names itself, else FOLLOWING). Silence makes it re-send its
// notifications after a wait that starts at finalizeWait and doubles up to
// maxWait. A peer that is already FOLLOWING or LEADING answers a LOOKING
// peer with the vote it decided on, so a restarted server joins the current
// leader once a quorum of such answers, the leader's own among them, agrees.
type Election struct {
	id           int32
	voters       int
	finalizeWait time.Duration
	maxWait      time.Duration

	state Role
	round int64 // logicalclock
	vote  Vote  // the proposal while looking; the decided vote after
	self  Vote  // the peer's own candidacy
	recv  []tally
	out   []tally // votes of peers out of the election (FOLLOWING or LEADING)
	wait  time.Duration
	final bool // inside the finalizeWait loop
	effs  []ElectionEffect
}

// NewElection returns the election of server id among voters servers,
// decided on vote in round (the ensemble's state at the start of a run).
func NewElection(id int32, voters int, finalizeWait, maxWait time.Duration, state Role, vote Vote, round int64) *Election {
	e := &Election{}
	e.init(id, voters, finalizeWait, maxWait, state, vote, round)
	return e
}

func (e *Election) init(id int32, voters int, finalizeWait, maxWait time.Duration, state Role, vote Vote, round int64) {
	*e = Election{id: id, voters: voters, finalizeWait: finalizeWait, maxWait: maxWait,
		state: state, vote: vote, round: round,
		recv: resize(e.recv, voters, 0), out: resize(e.out, voters, 0), effs: e.effs[:0]}
}

// State is the peer's state as the election sees it.
func (e *Election) State() Role { return e.state }

// Vote is the current proposal (looking) or the decided vote.
func (e *Election) Vote() Vote { return e.vote }

// Round is the election round (logicalclock).
func (e *Election) Round() int64 { return e.round }

func (e *Election) quorum() int { return e.voters/2 + 1 }

func (e *Election) notification() Notification {
	return Notification{From: e.id, Vote: e.vote, Round: e.round, State: e.state}
}

// Start begins a new election round with the peer's own candidacy self
// (its epoch and last logged zxid).
func (e *Election) Start(now clock.Time, self Vote) []ElectionEffect {
	e.effs = e.effs[:0]
	e.state = Looking
	e.round++
	e.self, e.vote = self, self
	clear(e.recv)
	clear(e.out)
	e.final = false
	e.wait = e.finalizeWait
	e.broadcast(now)
	e.wake(now.Add(e.wait))
	return e.effs
}

// Stop ends the peer's part in elections (the process died): it neither
// looks nor answers until the next Start, and its round, kept in memory
// only, starts again from zero.
func (e *Election) Stop() {
	e.state = Looking
	e.round = 0
	e.final = false
	clear(e.recv)
	clear(e.out)
}

// broadcast sends the proposal to every other voter and records the copy a
// peer sends itself (QuorumCnxManager delivers it locally).
func (e *Election) broadcast(now clock.Time) {
	e.effs = append(e.effs, ElectionEffect{Kind: ElectNotify, To: -1, N: e.notification()})
	e.recv[e.id] = tally{ok: true, vote: e.vote, round: e.round, state: Looking}
	e.checkQuorum(now)
}

func (e *Election) wake(at clock.Time) {
	e.effs = append(e.effs, ElectionEffect{Kind: ElectWake, At: at})
}

// OnWake is the election's timer: the end of a finalizeWait without a
// better vote (decide), or of a wait without notifications (send again,
// doubling the wait).
func (e *Election) OnWake(now clock.Time) []ElectionEffect {
	e.effs = e.effs[:0]
	if e.state != Looking {
		return e.effs
	}
	if e.final {
		e.decide(e.vote.Leader)
		return e.effs
	}
	e.broadcast(now)
	if e.state == Looking && !e.final {
		e.wait = min(2*e.wait, e.maxWait)
		e.wake(now.Add(e.wait))
	}
	return e.effs
}

// OnNotification handles n from another voter.
func (e *Election) OnNotification(now clock.Time, n Notification) []ElectionEffect {
	e.effs = e.effs[:0]
	if n.From < 0 || int(n.From) >= e.voters || n.From == e.id {
		return e.effs
	}
	if e.state != Looking {
		// A decided peer answers a looking one with its current vote.
		if n.State == Looking {
			e.effs = append(e.effs, ElectionEffect{Kind: ElectNotify, To: n.From, N: e.notification()})
		}
		return e.effs
	}
	if n.State == Looking && n.Round < e.round {
		// WorkerReceiver: tell a peer of an older round where we are.
		e.effs = append(e.effs, ElectionEffect{Kind: ElectNotify, To: n.From, N: e.notification()})
	}
	if e.final {
		// poll(finalizeWait) returned n: only a better vote ends the wait.
		if !n.Vote.Beats(e.vote) {
			e.wake(now.Add(e.finalizeWait))
			return e.effs
		}
		e.final = false
	}
	switch n.State {
	case Looking:
		switch {
		case n.Round > e.round:
			e.round = n.Round
			clear(e.recv)
			e.vote = e.self
			if n.Vote.Beats(e.self) {
				e.vote = n.Vote
			}
			e.broadcast(now)
		case n.Round < e.round:
			e.wake(now.Add(e.wait))
			return e.effs
		case n.Vote.Beats(e.vote):
			e.vote = n.Vote
			e.broadcast(now)
		}
		e.recv[n.From] = tally{ok: true, vote: n.Vote, round: n.Round, state: Looking}
		e.checkQuorum(now)
	default: // FOLLOWING or LEADING
		if n.Round == e.round {
			e.recv[n.From] = tally{ok: true, vote: n.Vote, round: n.Round, state: Looking}
			if e.agree(e.recv, n.Vote, n.Round, false) && e.leaderConfirmed(e.recv, n.Vote.Leader, n.Round) {
				e.vote = n.Vote
				e.decide(n.Vote.Leader)
				return e.effs
			}
		}
		e.out[n.From] = tally{ok: true, vote: n.Vote, round: n.Round, state: n.State}
		if e.agree(e.out, n.Vote, n.Round, true) && e.leaderConfirmed(e.out, n.Vote.Leader, n.Round) {
			e.round = n.Round
			e.vote = n.Vote
			e.decide(n.Vote.Leader)
			return e.effs
		}
	}
	if e.state == Looking && !e.final {
		e.wake(now.Add(e.wait))
	}
	return e.effs
}

// checkQuorum starts the finalizeWait once a quorum of this round's votes
// equals the proposal.
func (e *Election) checkQuorum(now clock.Time) {
	if e.final || !e.agree(e.recv, e.vote, e.round, false) {
		return
	}
	e.final = true
	e.wake(now.Add(e.finalizeWait))
}

// agree reports whether a quorum of votes equals v (Vote.equals: every
// field for looking votes; leader and epoch only between decided peers).
func (e *Election) agree(votes []tally, v Vote, round int64, decided bool) bool {
	n := 0
	for i := range votes {
		t := &votes[i]
		if !t.ok {
			continue
		}
		if decided {
			if t.vote.Leader == v.Leader && t.vote.Epoch == v.Epoch {
				n++
			}
		} else if t.vote == v && t.round == round {
			n++
		}
	}
	return n >= e.quorum()
}

// leaderConfirmed is checkLeader: a peer follows another only once that
// peer has said it leads; it leads itself only in its own round.
func (e *Election) leaderConfirmed(votes []tally, leader int32, round int64) bool {
	if leader != e.id {
		t := &votes[leader]
		return t.ok && t.state == Leading
	}
	return e.round == round
}

func (e *Election) decide(leader int32) {
	e.final = false
	e.state = Following
	if leader == e.id {
		e.state = Leading
	}
	e.effs = append(e.effs, ElectionEffect{Kind: ElectDecided, N: e.notification()})
}
