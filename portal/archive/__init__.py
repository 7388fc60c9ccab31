"""What goes to the current archive (Law on Archives 2024, Circular 05/2025/TT-BNV): a BagIt
package of a unit's results of a year (package.py), each PDF checked for PDF/A as far as can be
done without veraPDF (pdfa.py)."""
