namespace Cartridges.Model;
