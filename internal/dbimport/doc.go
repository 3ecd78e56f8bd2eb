// Package dbimport copies an OpenStack Neutron database (Zed or later)
// into neutrino's schema.
package dbimport
