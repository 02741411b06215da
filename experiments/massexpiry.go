package experiments

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// MassExpiryBinomial returns the binomial reference of a point's
// mass-expiry rows: n, the number of sessions an episode hits (the largest
// k, i.e. every counted client), and p, the per-session expiry estimate
// (expiries over sessions hit, summed over episodes: Σ_k Count_k /
// (Episodes · MeanHit), since Σ_k P(X >= k) = E[X]). If the sessions'
// phases are independent, the number X of expiries in one episode is
// Binomial(n, p) and row k estimates PAtLeastKOfN(k, n, p)
// (closed-forms.md §3). It returns 0, NaN for no rows.
func MassExpiryBinomial(rows []MassExpiry) (n int, p float64) {
	if len(rows) == 0 || rows[0].Episodes == 0 || !(rows[0].MeanHit > 0) {
		return 0, math.NaN()
	}
	var expired float64
	for _, r := range rows {
		expired += float64(r.Count)
	}
	hits := float64(rows[0].Episodes) * rows[0].MeanHit
	return len(rows), min(1, expired/hits)
}

// MassExpiryTable renders, for every point with MassExpiry rows, the
// distribution of simultaneous expiries in one shared fault episode: P(at
// least k of the n sessions expire) with its 95 % interval, the episodes
// counted, and the binomial law 1 - BinomCDF(k-1; n, p̂) that independent
// sessions would follow (MassExpiryBinomial). Leading rows where every
// episode had at least k expiries, and trailing rows where none had, are
// folded into one line each. It returns "" when no point has rows.
func (r *Result) MassExpiryTable() string {
	var b strings.Builder
	for _, p := range r.Points {
		if len(p.MassExpiry) == 0 {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\nMass expiry: sessions expiring together in one shared fault episode (a rack, a switch, a leader).\n" +
				"The binomial column is what independent sessions would give; a heavier tail means they expire together.\n")
		}
		writeMassExpiry(&b, p)
	}
	return b.String()
}

func writeMassExpiry(b *strings.Builder, p PointResult) {
	rows := p.MassExpiry
	n, ph := MassExpiryBinomial(rows)
	var params []string
	for _, prm := range p.Params {
		params = append(params, prm.Key+"="+prm.Value)
	}
	where := fmt.Sprintf("point %d", p.Index)
	if len(params) > 0 {
		where += " (" + strings.Join(params, ", ") + ")"
	}
	fmt.Fprintf(b, "\n%s, T=%ss: %d episode(s), %s session(s) hit per episode; per-session P(expiry) = %s\n",
		where, num(p.SessionTimeoutS), rows[0].Episodes, strconv.FormatFloat(rows[0].MeanHit, 'g', 4, 64), prob(ph))

	// Fold the rows where every episode, or none, had at least k expiries.
	first, last := 0, len(rows)-1
	for first < last && rows[first+1].Count == rows[first].Episodes {
		first++
	}
	for last > first && rows[last-1].Count == 0 {
		last--
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "k\tP(at least k of %d expire) [95%% CI]\tepisodes\tbinomial(%d, %s)\t\n", n, n, prob(ph))
	line := func(k string, r MassExpiry, binom string) {
		fmt.Fprintf(tw, "%s\t%s [%s, %s]\t%d\t%s\t\n", k, prob(r.Estimate), prob(r.Lower), prob(r.Upper), r.Count, binom)
	}
	if first > 0 {
		line(fmt.Sprintf("1–%d", rows[first].K), rows[first], ">= "+prob(PAtLeastKOfN(rows[first].K, n, ph)))
	} else {
		line(strconv.Itoa(rows[0].K), rows[0], prob(PAtLeastKOfN(rows[0].K, n, ph)))
	}
	for i := first + 1; i < last; i++ {
		line(strconv.Itoa(rows[i].K), rows[i], prob(PAtLeastKOfN(rows[i].K, n, ph)))
	}
	if last > first {
		r := rows[last]
		if last < len(rows)-1 {
			line(fmt.Sprintf("%d–%d", r.K, rows[len(rows)-1].K), r, "<= "+prob(PAtLeastKOfN(r.K, n, ph)))
		} else {
			line(strconv.Itoa(r.K), r, prob(PAtLeastKOfN(r.K, n, ph)))
		}
	}
	_ = tw.Flush() // a strings.Builder does not fail
}

// prob formats a probability: 3 significant digits, "4.1e-4" below 0.01.
func prob(x float64) string {
	if !math.IsNaN(x) && x != 0 && math.Abs(x) < 0.01 {
		return sci(x)
	}
	if math.IsNaN(x) {
		return "?"
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}
