package experiments

import "hbsim/experiments/fit"

// ReadDurationsCSV reads the samples of an empirical duration law, in
// seconds: one value per line, the first column when a line has commas, an
// optional header, '#' comments. It is fit.ReadDurationsCSV, so that hbsim
// fit reads a durations file exactly as an empirical law does; see there
// for the format and the errors (which name the file and the line).
func ReadDurationsCSV(name string, data []byte) ([]float64, error) {
	return fit.ReadDurationsCSV(name, data)
}
