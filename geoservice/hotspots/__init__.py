"""Analysis of the stored records: indicators per commune, province and border neighbour."""
