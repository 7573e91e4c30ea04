package kb

import "math"

// EarthRadiusKm is the mean radius of the earth (IUGG), the radius of the
// great-circle distances of the `near` filter.
const EarthRadiusKm = 6371.0088

// MaxRadiusKm is the largest radius of a `near` filter: half the earth's
// circumference, beyond which every point is near.
const MaxRadiusKm = 20015

// Circle is the `near` filter of a map: a WGS 84 point and a radius.
type Circle struct {
	Lat, Lon, RadiusKm float64
}

// BBox is the `within` filter of a map: a box of WGS 84 degrees. West
// greater than East is a box across the antimeridian.
type BBox struct {
	South, West, North, East float64
}

// Validate checks the circle; field names the argument in errors.
func (c Circle) Validate(field string) error {
	if err := checkLatLon(field, c.Lat, c.Lon); err != nil {
		return err
	}
	if !(c.RadiusKm > 0 && c.RadiusKm <= MaxRadiusKm) {
		return Invalid(field+".radiusKm", "radiusKm must be more than 0 and at most %d, not %v", MaxRadiusKm, c.RadiusKm)
	}
	return nil
}

// Validate checks the box; field names the argument in errors.
func (b BBox) Validate(field string) error {
	if err := checkLatLon(field, b.South, b.West); err != nil {
		return err
	}
	if err := checkLatLon(field, b.North, b.East); err != nil {
		return err
	}
	if b.South > b.North {
		return Invalid(field+".south", "south (%v) must not be north of north (%v)", b.South, b.North)
	}
	return nil
}

func checkLatLon(field string, lat, lon float64) error {
	if !(lat >= -90 && lat <= 90) {
		return Invalid(field+".lat", "a latitude is between -90 and 90 degrees, not %v", lat)
	}
	if !(lon >= -180 && lon <= 180) {
		return Invalid(field+".lon", "a longitude is between -180 and 180 degrees, not %v", lon)
	}
	return nil
}

// Box is a box that holds the circle, for an index range scan before the
// exact distance: a degree of latitude is about 111.2 km, one of longitude
// that times the cosine of the latitude. Near a pole, or when the circle
// reaches round the earth, the box spans every longitude.
func (c Circle) Box() BBox {
	dLat := c.RadiusKm / (EarthRadiusKm * math.Pi / 180)
	b := BBox{South: math.Max(-90, c.Lat-dLat), North: math.Min(90, c.Lat+dLat), West: -180, East: 180}
	if b.South == -90 || b.North == 90 {
		return b
	}
	cos := math.Min(math.Cos(b.South*math.Pi/180), math.Cos(b.North*math.Pi/180))
	dLon := dLat / cos
	if dLon >= 180 {
		return b
	}
	b.West, b.East = c.Lon-dLon, c.Lon+dLon
	if b.West < -180 {
		b.West += 360
	}
	if b.East > 180 {
		b.East -= 360
	}
	return b
}

// DistanceKm is the great-circle distance between two WGS 84 points
// (haversine), as the `near` filter computes it in SQL.
func DistanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Pow(math.Sin(dLat/2), 2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Pow(math.Sin(dLon/2), 2)
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(math.Min(1, h)))
}
