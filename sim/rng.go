package sim

import "math/rand/v2"

// Stream returns the random stream for component name, instance index, of the
// run seeded with seed. Streams are math/rand/v2 PCG generators keyed by
// (seed, hash(name, index)), so each component draws from its own sequence and
// adding a draw to one never shifts another. Names are stable constants chosen
// by the caller ("client-jitter", "network-latency", ...).
func Stream(seed uint64, name string, index uint64) *rand.Rand {
	return rand.New(NewSource(seed, name, index))
}

// NewSource is the PCG source behind Stream, for APIs (gonum's distuv) that
// take a rand.Source.
func NewSource(seed uint64, name string, index uint64) *rand.PCG {
	return rand.NewPCG(seed, StreamID(name, index))
}

// StreamID is the PCG stream constant for (name, index).
func StreamID(name string, index uint64) uint64 {
	h := uint64(14695981039346656037) // FNV-1a over the name
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return Mix64(h ^ Mix64(index+0x9e3779b97f4a7c15))
}

// Mix64 is the SplitMix64 finaliser: a bijective scramble of x, used to derive
// independent seeds and stream ids from structured integers.
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
