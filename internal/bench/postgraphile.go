package bench

// PostGraphileQueries are the equivalents of the mix's operations in
// PostGraphile v4 serving partnergraph's database.
var PostGraphileQueries = map[string]PeerQuery{}
